"""Loaders for issue 16's records (appointment requests, ...)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.summary import PatientListLoader
from persistence import models as m
from persistence.queries import patient_tasks as q


class AppointmentRequestsByPatientLoader(PatientListLoader[m.AppointmentRequest]):
    async def fetch_pairs(
        self, session: AsyncSession, grants: Sequence[PatientGrant]
    ) -> list[tuple[str, m.AppointmentRequest]]:
        return [(r.patient_id, r) for r in await q.appointment_requests(session, grants)]


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
