"""Each patient's appointment requests (one statement per batch)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.summary import PatientListLoader
from persistence import models as m
from persistence.queries import appointment_requests as q


class AppointmentRequestsByPatientLoader(PatientListLoader[m.AppointmentRequest]):
    async def fetch_pairs(
        self, session: AsyncSession, grants: Sequence[PatientGrant]
    ) -> list[tuple[str, m.AppointmentRequest]]:
        return [(r.patient_id, r) for r in await q.appointment_requests(session, grants)]
