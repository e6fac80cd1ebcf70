"""Clinical notes: the patient's list, one note (by id, by appointment, by version), the
patient's privacy choices, and the live event. Whether one note may be read by this viewer
is `domain.access.note_withheld`; lists apply the same rule in SQL (`note_filter`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.access import AccessDenied, PatientGrant, note_filter, note_withheld
from domain.errors import BrokenInvariant
from domain.notes import NoteKind
from domain.scopes import AccessReason, RecordArea, SensitiveCategory
from persistence import models as m
from persistence.paging import Page
from resolvers import patients as patients_r
from schema import notes as s
from schema.base import Connection, cursor_values, page_size

if TYPE_CHECKING:
    from schema.appointments import Appointment
    from schema.base import Info
    from schema.patient import Patient

AREA = RecordArea.CLINICAL_NOTES


def readable(row: m.ClinicalNote, grant: PatientGrant) -> s.ClinicalNote:
    """The note, or FORBIDDEN with the reason the policy withholds it from this viewer."""
    category = SensitiveCategory(row.sensitive_category) if row.sensitive_category else None
    reason = note_withheld(grant, category, row.hidden_from_proxies)
    if reason is not None:
        raise AccessDenied(reason, AREA)
    return s.ClinicalNote.from_row(row, grant)


async def patient_notes(
    info: Info, grant: PatientGrant, kind: NoteKind | None, first: int | None, after: str | None
) -> Connection[s.ClinicalNote]:
    filter_ = (kind.value if kind is not None else None, note_filter(grant))
    page = Page(page_size(first), cursor_values(after, [datetime, str]), filter_)
    found = await info.context.loaders.note_pages.get((grant, page))
    if found is None:
        raise BrokenInvariant("found is None")
    return Connection.of(found, lambda row: s.ClinicalNote.from_row(row, grant))


def note_text(note: s.ClinicalNote) -> str:
    if note.withheld is not None:
        raise AccessDenied(AccessReason.WITHHELD_BY_PROVIDER, AREA)
    return note.text_value


async def version(info: Info, grant: PatientGrant, note_id: str | None) -> s.ClinicalNote | None:
    if note_id is None:
        return None
    row = await info.context.loaders.note.get((grant, note_id))
    return readable(row, grant) if row is not None else None


async def note_node(info: Info, row_id: str) -> s.ClinicalNote | None:
    from resolvers.nodes import owned_row  # resolvers.nodes imports this module

    row, grant = await owned_row(info, m.ClinicalNote, "ClinicalNote", row_id)
    return readable(row, grant) if row is not None else None


async def note_appointment(info: Info, note: s.ClinicalNote) -> Appointment | None:
    from schema.appointments import Appointment

    if note.appointment_id is None:
        return None
    grant = info.context.access(note.patient_id, RecordArea.APPOINTMENTS, "Appointment")
    row = await info.context.loaders.appointment.get((grant, note.appointment_id))
    return Appointment.from_row(row, grant, info) if row is not None else None


async def after_visit_summary(
    info: Info, grant: PatientGrant, appointment_id: str
) -> s.ClinicalNote | None:
    row = await info.context.loaders.visit_summary.get((grant, appointment_id))
    return readable(row, grant) if row is not None else None


async def hidden_note_count(info: Info, patient_id: str) -> int | None:
    """How many notes the patient hid from proxies; null where notes are not readable."""
    ctx = info.context
    if not ctx.patient_context(patient_id).area(AREA).allowed:
        return None
    grant = ctx.access(patient_id, AREA, "ClinicalNote")
    return await ctx.loaders.hidden_note_count.get(grant)


async def event_patient(info: Info, patient_id: str) -> Patient:
    return await patients_r.patient(info, patient_id)
