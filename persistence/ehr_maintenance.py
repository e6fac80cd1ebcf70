"""HEALTH_MAINTENANCE_UPDATED's row writes, in the EHR feed's transaction (the rules and the
announcement: usecases/ehr_maintenance.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ehr_maintenance import Topic
from persistence import models as m

T = m.HealthMaintenanceTopic


async def keep_only(
    session: AsyncSession, patient_id: str, topic_ids: list[str]
) -> dict[str, m.HealthMaintenanceTopic]:
    """Delete the patient's other topics; the remaining rows by topic id."""
    await session.execute(delete(T).where(T.patient_id == patient_id, T.topic_id.not_in(topic_ids)))
    rows = await session.scalars(select(T).where(T.patient_id == patient_id))
    return {row.topic_id: row for row in rows.all()}


def write_topic(
    session: AsyncSession,
    patient_id: str,
    row: m.HealthMaintenanceTopic | None,
    topic: Topic,
    now: datetime,
) -> m.HealthMaintenanceTopic:
    """The topic's row as sent (None: a new topic, never notified yet)."""
    if row is None:
        row = T(patient_id=patient_id, topic_id=topic.topic_id, notified_for=None)
        session.add(row)
    row.name, row.kind = topic.name, topic.kind.value
    row.due_on, row.last_done_on, row.postponed = topic.due_on, topic.last_done_on, topic.postponed
    row.visit_type, row.department_id = topic.visit_type, topic.department_id
    row.updated_at = now
    return row
