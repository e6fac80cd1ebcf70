"""Each patient's coverages and insurance-card images (one statement per batch)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.summary import PatientListLoader
from persistence import models as m
from persistence.queries import coverages as q


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
