"""Loaders for issue 16's records (appointment requests, ...)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.base import SessionLoader
from loaders.summary import PatientListLoader
from persistence import models as m
from persistence.queries import patient_tasks as q

AppointmentKey = tuple[PatientGrant, str]


class AppointmentRequestsByPatientLoader(PatientListLoader[m.AppointmentRequest]):
    async def fetch_pairs(
        self, session: AsyncSession, grants: Sequence[PatientGrant]
    ) -> list[tuple[str, m.AppointmentRequest]]:
        return [(r.patient_id, r) for r in await q.appointment_requests(session, grants)]


class AppointmentByIdLoader(SessionLoader[AppointmentKey, m.Appointment]):
    """(APPOINTMENTS grant, appointment id): found only if the grant's patient owns it."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[AppointmentKey]
    ) -> dict[AppointmentKey, m.Appointment]:
        rows = {r.id: r for r in await q.appointments_by_id(session, keys)}
        return {
            (grant, row_id): rows[row_id]
            for grant, row_id in keys
            if row_id in rows and rows[row_id].patient_id == grant.patient_id
        }


class RenewalsByPatientLoader(PatientListLoader[m.PrescriptionRenewal]):
    async def fetch_pairs(
        self, session: AsyncSession, grants: Sequence[PatientGrant]
    ) -> list[tuple[str, m.PrescriptionRenewal]]:
        return [(r.patient_id, r) for r in await q.renewals(session, grants)]


class CoveragesByPatientLoader(PatientListLoader[m.Coverage]):
    async def fetch_pairs(
        self, session: AsyncSession, grants: Sequence[PatientGrant]
    ) -> list[tuple[str, m.Coverage]]:
        return [(r.patient_id, r) for r in await q.coverages(session, grants)]


class InsuranceCardsByPatientLoader(PatientListLoader[m.Attachment]):
    async def fetch_pairs(
        self, session: AsyncSession, grants: Sequence[PatientGrant]
    ) -> list[tuple[str, m.Attachment]]:
        return [(r.patient_id, r) for r in await q.insurance_cards(session, grants)]
