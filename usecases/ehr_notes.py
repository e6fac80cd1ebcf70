"""NOTE_SIGNED: a note is released on signing.

It is listed and pushed live at once to whoever may read it (domain/access.py decides per
reader, at delivery). One the provider withheld under a named exception is stored with it:
the patient sees that it exists and why, not its text. Notifications never name the note,
and none at all go out for a sensitive or hidden note.
"""

from __future__ import annotations

from datetime import datetime

from domain import ehr
from domain.access import may_announce_note
from domain.ehr_notes import NoteSigned
from domain.events import EventKind
from domain.scopes import RecordArea
from persistence import ehr_notes as rows
from persistence import models as m
from persistence.uow import UnitOfWork
from usecases.ehr_ports import Applied, Ports, tell


def _problem(field: str, message: str) -> ehr.InvalidEvent:
    return ehr.InvalidEvent([ehr.Problem(field, message)])


async def note_signed(c: NoteSigned, uow: UnitOfWork, now: datetime, ports: Ports) -> Applied:
    """Store the note (and supersede the one it amends), push it, announce it if allowed."""
    await uow.ehr.require(m.Patient, c.patient_id, "data.patientId", "patient")
    if await uow.ehr.exists(m.ClinicalNote, c.note_id):
        raise _problem("data.noteId", "was signed already: send an amendment with a new noteId")
    author_name = await _author_name(uow, c)
    await _check_appointment(uow, c)
    earlier = await _amended(uow, c)
    # The patient hid the note from every proxy: its amendment stays hidden too.
    hidden = earlier is not None and earlier.hidden_from_proxies
    note = await rows.add_note(uow.session, c, author_name, earlier, hidden, now)
    uow.outbox.record(
        EventKind.NOTE_SIGNED,
        object_id=note.id,
        patient_id=note.patient_id,
        now=now,
        payload={"noteId": note.id},
    )
    if may_announce_note(c.sensitive_category, hidden):
        text = ehr.note_notice(earlier is not None)
        kind, area = "NOTE_SIGNED", RecordArea.CLINICAL_NOTES
        await tell(uow, note.patient_id, kind, area, text, note.id, now, ports.ages)
    return Applied(note.patient_id, note.id)


async def _author_name(uow: UnitOfWork, c: NoteSigned) -> str:
    if c.author_provider_id is None:
        return c.author_name or ""
    provider = await uow.ehr.provider(c.author_provider_id)
    if provider is None:
        raise ehr.unknown("data.authorProviderId", "provider")
    return c.author_name or provider.display_name


async def _check_appointment(uow: UnitOfWork, c: NoteSigned) -> None:
    if c.appointment_id is None:
        return
    owner = await rows.appointment_owner(uow.session, c.appointment_id)
    if owner is None:
        raise ehr.unknown("data.appointmentId", "appointment")
    ehr.check_owner("data.appointmentId", c.patient_id, owner)


async def _amended(uow: UnitOfWork, c: NoteSigned) -> m.ClinicalNote | None:
    if c.amends_note_id is None:
        return None
    earlier = await rows.note_for_update(uow.session, c.amends_note_id)
    if earlier is None:
        raise ehr.unknown("data.amendsNoteId", "note")
    ehr.check_owner("data.amendsNoteId", c.patient_id, earlier.patient_id)
    if earlier.superseded_by_id is not None:
        raise _problem("data.amendsNoteId", "was amended already: amend its latest version")
    return earlier
