"""setProxyNoteCategory and setNoteHiddenFromProxies: the patient's privacy choices about
their clinical notes (usecases/notes.py). Self only: `Context.act_for_self`, audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.scopes import RecordArea
from persistence.uow import UnitOfWork
from resolvers.payloads import user_errors
from schema import notes as s
from schema.base import internal_id
from schema.proxies import ProxyGrant
from usecases import notes as usecases

if TYPE_CHECKING:
    from schema.base import Info

AREA = RecordArea.CLINICAL_NOTES


@user_errors(s.SetProxyNoteCategoryPayload, s.NotePrivacyError, s.NotePrivacyErrorCode)
async def set_proxy_note_category(
    info: Info, input: s.SetProxyNoteCategoryInput
) -> s.SetProxyNoteCategoryPayload:
    ctx = info.context
    command = usecases.SetProxyNoteCategory(
        internal_id(input.grant_id, "ProxyGrant"), input.category, input.open
    )
    own = ctx.act_for_self(ctx.require_principal().patient_id or "", "NotePrivacy")
    row = await usecases.set_proxy_note_category(command, own, UnitOfWork(ctx.services.sessions))
    return s.SetProxyNoteCategoryPayload(grant=ProxyGrant.from_row(row))


@user_errors(s.SetNoteHiddenFromProxiesPayload, s.NotePrivacyError, s.NotePrivacyErrorCode)
async def set_note_hidden_from_proxies(
    info: Info, input: s.SetNoteHiddenFromProxiesInput
) -> s.SetNoteHiddenFromProxiesPayload:
    ctx = info.context
    command = usecases.SetNoteHidden(internal_id(input.note_id, "ClinicalNote"), input.hidden)
    own = ctx.act_for_self(ctx.require_principal().patient_id or "", "NotePrivacy")
    uow = UnitOfWork(ctx.services.sessions)
    row = await usecases.set_note_hidden(command, own, uow, ctx.now)
    grant = ctx.access(own.patient_id, AREA, "ClinicalNote")
    return s.SetNoteHiddenFromProxiesPayload(note=s.ClinicalNote.from_row(row, grant))
