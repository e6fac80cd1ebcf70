"""Each patient's prescription renewals (one statement per batch)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.summary import PatientListLoader
from persistence import models as m
from persistence.queries import renewals as q


class RenewalsByPatientLoader(PatientListLoader[m.PrescriptionRenewal]):
    async def fetch_pairs(
        self, session: AsyncSession, grants: Sequence[PatientGrant]
    ) -> list[tuple[str, m.PrescriptionRenewal]]:
        return [(r.patient_id, r) for r in await q.renewals(session, grants)]
