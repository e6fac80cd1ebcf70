"""NOTE_SIGNED's row reads and writes, in the EHR feed's transaction (the rules and
announcements: usecases/ehr_notes.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ehr_notes import NoteSigned
from persistence import models as m


async def appointment_owner(session: AsyncSession, appointment_id: str) -> str | None:
    stmt = select(m.Appointment.patient_id).where(m.Appointment.id == appointment_id)
    return await session.scalar(stmt)


async def note_for_update(session: AsyncSession, note_id: str) -> m.ClinicalNote | None:
    stmt = select(m.ClinicalNote).where(m.ClinicalNote.id == note_id).with_for_update()
    return await session.scalar(stmt)


async def add_note(
    session: AsyncSession,
    c: NoteSigned,
    author_name: str,
    earlier: m.ClinicalNote | None,
    hidden: bool,
    now: datetime,
) -> m.ClinicalNote:
    """Store the note, superseding `earlier` (the version it amends) if any."""
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
    return note
