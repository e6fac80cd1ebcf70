"""Clinical notes: pages per patient (filtered for the reader), by id, after-visit
summaries by appointment, and how many notes a patient hid from proxies."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.base import PatientPageLoader, SessionLoader
from loaders.owned import OwnedByIdLoader
from persistence import models as m
from persistence.paging import Page, PageOf
from persistence.queries import notes

NoteKey = tuple[PatientGrant, str]  # (grant, note id or appointment id)


class NotePageByPatientLoader(PatientPageLoader):
    async def fetch_pages(
        self, session: AsyncSession, grants: Sequence[PatientGrant], page: Page
    ) -> dict[str, PageOf]:
        return await notes.note_pages(session, grants, page)


class NoteByIdLoader(SessionLoader[NoteKey, m.ClinicalNote]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[NoteKey]
    ) -> dict[NoteKey, m.ClinicalNote]:
        grants = list({grant for grant, _ in keys})
        rows = await notes.notes_by_id(session, grants, list({nid for _, nid in keys}))
        by_id = {row.id: row for row in rows}
        return {
            (g, nid): by_id[nid]
            for g, nid in keys
            if nid in by_id and by_id[nid].patient_id == g.patient_id
        }


class SummaryByAppointmentLoader(SessionLoader[NoteKey, m.ClinicalNote]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[NoteKey]
    ) -> dict[NoteKey, m.ClinicalNote]:
        grants = list({grant for grant, _ in keys})
        rows = await notes.summaries_by_appointment(session, grants, list({aid for _, aid in keys}))
        by_appointment = {(row.patient_id, row.appointment_id): row for row in rows}
        found = {(g, aid): by_appointment.get((g.patient_id, aid)) for g, aid in keys}
        return {key: row for key, row in found.items() if row is not None}


class HiddenNoteCountByPatientLoader(SessionLoader[PatientGrant, int]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[PatientGrant]
    ) -> dict[PatientGrant, int]:
        counts = await notes.hidden_counts(session, list(set(keys)))
        return {g: counts.get(g.patient_id, 0) for g in keys}


class AppointmentByIdLoader(OwnedByIdLoader):
    """Appointments by id, only those of the grants' patients (the visit a note documents)."""

    model = m.Appointment
