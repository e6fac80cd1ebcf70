"""Health maintenance topics per patient: one statement for every patient of a batch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.scopes import RecordArea
from loaders.base import SessionLoader
from persistence import models as m
from persistence.queries.guard import patient_ids


class TopicsByPatientLoader(SessionLoader[PatientGrant, list[m.HealthMaintenanceTopic]]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[PatientGrant]
    ) -> dict[PatientGrant, list[m.HealthMaintenanceTopic]]:
        t = m.HealthMaintenanceTopic
        ids = patient_ids(list(set(keys)), RecordArea.HEALTH_MAINTENANCE)
        stmt = select(t).where(t.patient_id.in_(ids)).order_by(t.patient_id, t.topic_id)
        found: dict[str, list[m.HealthMaintenanceTopic]] = defaultdict(list)
        for row in (await session.scalars(stmt)).all():
            found[row.patient_id].append(row)
        return {g: found.get(g.patient_id, []) for g in keys}
