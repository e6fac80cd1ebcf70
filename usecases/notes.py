"""The patient's privacy choices about their clinical notes. Self only: the caller passes
the grant of the patient's own record (`Context.act_for_self`, audited as a write)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from domain.notes import GrantNotFound, NoteNotFound, opened_after
from domain.scopes import SensitiveCategory
from persistence import models as m
from persistence.notes import NotePrivacyRepository
from persistence.uow import UnitOfWork


@dataclass(frozen=True)
class SetProxyNoteCategory:
    grant_id: str
    category: SensitiveCategory
    open: bool


@dataclass(frozen=True)
class SetNoteHidden:
    note_id: str
    hidden: bool


async def set_proxy_note_category(
    command: SetProxyNoteCategory, own: PatientGrant, uow: UnitOfWork
) -> m.ProxyGrant:
    """Open one sensitive category to one proxy, or close it again. The principal is read
    afresh for every request and live event, so the proxy's next one sees the change."""
    async with uow:
        repo = NotePrivacyRepository(uow.session)
        grant = await repo.grant_given(own.patient_id, command.grant_id)
        if grant is None:
            raise GrantNotFound(field="grantId")
        grant.opened_note_categories = opened_after(
            grant.opened_note_categories or [], command.category, command.open
        )
        await uow.commit()
        uow.session.expunge(grant)  # kept as committed: leaving the block expires what remains
        return grant


async def set_note_hidden(
    command: SetNoteHidden, own: PatientGrant, uow: UnitOfWork, now: datetime
) -> m.ClinicalNote:
    """Hide one note, every version of it, from every proxy (or show it again)."""
    async with uow:
        repo = NotePrivacyRepository(uow.session)
        note = await repo.note_of(own.patient_id, command.note_id)
        if note is None:
            raise NoteNotFound(field="noteId")
        await repo.set_hidden(await repo.versions(note), command.hidden, now)
        await uow.commit()
    async with uow:
        found = await NotePrivacyRepository(uow.session).note_of(own.patient_id, command.note_id)
        if found is None:
            raise BrokenInvariant("found is None: a note is never deleted")
        uow.session.expunge(found)
        return found
