"""The patient's privacy choices about their clinical notes: inputs (decoded into the
commands of usecases/notes.py), payloads, error codes and the mutation fields."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.scopes import SensitiveCategory
from resolvers import notes as r
from schema.base import Info, internal_id
from schema.notes import ClinicalNote
from schema.payloads import UserError, user_errors
from schema.proxies import ProxyGrant
from usecases import notes as usecases


@strawberry.enum
class NotePrivacyErrorCode(Enum):
    NOTE_NOT_FOUND = "NOTE_NOT_FOUND"
    GRANT_NOT_FOUND = "GRANT_NOT_FOUND"


@strawberry.type
class NotePrivacyError(UserError):
    code: NotePrivacyErrorCode


@strawberry.input
class SetProxyNoteCategoryInput:
    grant_id: strawberry.ID = strawberry.field(description="A proxy grant the patient gave.")
    category: SensitiveCategory
    open: bool = strawberry.field(description="True: this proxy may read notes of it.")

    def command(self) -> usecases.SetProxyNoteCategory:
        grant_id = internal_id(self.grant_id, "ProxyGrant")
        return usecases.SetProxyNoteCategory(grant_id, self.category, self.open)


@strawberry.type
class SetProxyNoteCategoryPayload:
    grant: ProxyGrant | None = None
    errors: list[NotePrivacyError] = strawberry.field(default_factory=list)


@strawberry.input
class SetNoteHiddenFromProxiesInput:
    note_id: strawberry.ID
    hidden: bool

    def command(self) -> usecases.SetNoteHidden:
        return usecases.SetNoteHidden(internal_id(self.note_id, "ClinicalNote"), self.hidden)


@strawberry.type
class SetNoteHiddenFromProxiesPayload:
    note: ClinicalNote | None = None
    errors: list[NotePrivacyError] = strawberry.field(default_factory=list)


@strawberry.type
class NoteMutations:
    @strawberry.mutation(
        description="The patient opens (or closes again) one sensitive category of their "
        "notes to one proxy. Self only; audited; counts from the proxy's next request and "
        "next live event."
    )
    @user_errors(SetProxyNoteCategoryPayload, NotePrivacyError, NotePrivacyErrorCode)
    async def set_proxy_note_category(
        self, info: Info, input: SetProxyNoteCategoryInput
    ) -> SetProxyNoteCategoryPayload:
        row = await r.set_proxy_note_category(info.context, input.command())
        return SetProxyNoteCategoryPayload(grant=ProxyGrant.from_row(row))

    @strawberry.mutation(
        description="The patient hides one note (and its amendments) from every proxy, or "
        "shows it again. Self only; audited; counts from the next request and live event."
    )
    @user_errors(SetNoteHiddenFromProxiesPayload, NotePrivacyError, NotePrivacyErrorCode)
    async def set_note_hidden_from_proxies(
        self, info: Info, input: SetNoteHiddenFromProxiesInput
    ) -> SetNoteHiddenFromProxiesPayload:
        row, grant = await r.set_note_hidden_from_proxies(info.context, input.command())
        return SetNoteHiddenFromProxiesPayload(note=ClinicalNote.from_row(row, grant))
