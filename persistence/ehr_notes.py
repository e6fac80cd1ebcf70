"""NOTE_SIGNED applied to the database, in the EHR feed's transaction (persistence/ehr.py).

A note is released on signing: it is listed and pushed live at once to whoever may read it
(domain/access.py decides per reader, at delivery). One the provider withheld under a named
exception is stored with it: the patient sees that it exists and why, not its text.
Notifications never name the note, and none at all go out for a sensitive or hidden note.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain import ehr
from domain.access import AgePolicy, may_announce_note
from domain.ehr_notes import NoteSigned
from domain.events import EventKind
from domain.scopes import RecordArea
from persistence import models as m
from persistence.notify import Notice, notify
from persistence.outbox import OutboxRepository


def _problem(field: str, message: str) -> ehr.InvalidEvent:
    return ehr.InvalidEvent([ehr.Problem(field, message)])


async def _author_name(session: AsyncSession, c: NoteSigned) -> str:
    if c.author_provider_id is None:
        return c.author_name or ""
    provider = await session.get(m.Provider, c.author_provider_id)
    if provider is None:
        raise ehr.unknown("data.authorProviderId", "provider")
    return c.author_name or provider.display_name


async def _check_appointment(session: AsyncSession, c: NoteSigned) -> None:
    if c.appointment_id is None:
        return
    owner = await session.scalar(
        select(m.Appointment.patient_id).where(m.Appointment.id == c.appointment_id)
    )
    if owner is None:
        raise ehr.unknown("data.appointmentId", "appointment")
    ehr.check_owner("data.appointmentId", c.patient_id, owner)


async def _amended(session: AsyncSession, c: NoteSigned) -> m.ClinicalNote | None:
    if c.amends_note_id is None:
        return None
    stmt = select(m.ClinicalNote).where(m.ClinicalNote.id == c.amends_note_id).with_for_update()
    earlier = await session.scalar(stmt)
    if earlier is None:
        raise ehr.unknown("data.amendsNoteId", "note")
    ehr.check_owner("data.amendsNoteId", c.patient_id, earlier.patient_id)
    if earlier.superseded_by_id is not None:
        raise _problem("data.amendsNoteId", "was amended already: amend its latest version")
    return earlier


async def note_signed(
    session: AsyncSession, c: NoteSigned, now: datetime, ages: AgePolicy
) -> tuple[str, str]:
    """Store the note (and supersede the one it amends); returns (patient id, note id)."""
    if await session.get(m.Patient, c.patient_id) is None:
        raise ehr.unknown("data.patientId", "patient")
    if await session.get(m.ClinicalNote, c.note_id) is not None:
        raise _problem("data.noteId", "was signed already: send an amendment with a new noteId")
    author_name = await _author_name(session, c)
    await _check_appointment(session, c)
    earlier = await _amended(session, c)
    # The patient hid the note from every proxy: its amendment stays hidden too.
    hidden = earlier is not None and earlier.hidden_from_proxies
    note = m.ClinicalNote(
        id=c.note_id,
        patient_id=c.patient_id,
        appointment_id=c.appointment_id,
        author_provider_id=c.author_provider_id,
        author_name=author_name,
        kind=c.kind.value,
        title=c.title,
        text=c.text,
        signed_at=c.signed_at,
        received_at=now,
        sensitive_category=c.sensitive_category.value if c.sensitive_category else None,
        supersedes_id=earlier.id if earlier is not None else None,
        superseded_by_id=None,
        withheld_exception=c.withheld_exception.value if c.withheld_exception else None,
        withheld_reason=c.withheld_reason,
        hidden_from_proxies=hidden,
        hidden_changed_at=earlier.hidden_changed_at if earlier is not None else None,
    )
    session.add(note)
    if earlier is not None:
        earlier.superseded_by_id = note.id
    await session.flush()
    OutboxRepository(session).record(
        EventKind.NOTE_SIGNED,
        object_id=note.id,
        patient_id=note.patient_id,
        now=now,
        payload={"noteId": note.id},
    )
    if may_announce_note(c.sensitive_category, hidden):
        text = ehr.note_notice(earlier is not None)
        notice = Notice("NOTE_SIGNED", RecordArea.CLINICAL_NOTES, text.title, text.body, note.id)
        await notify(session, note.patient_id, notice, now, ages)
    return note.patient_id, note.id
