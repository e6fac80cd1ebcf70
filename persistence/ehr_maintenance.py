"""HEALTH_MAINTENANCE_UPDATED's row writes, in the EHR feed's transaction (the rules and the
announcement: usecases/ehr_maintenance.py); and the reads and marker of the periodic job that
tells topics that became due with time alone (usecases/health_maintenance.py), with the same
marker (`notified_for`: the due date last told about)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ehr_maintenance import Topic
from domain.health_maintenance import HealthMaintenancePolicy, should_notify, topic_status
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


@dataclass(frozen=True)
class DueTopic:
    patient_id: str
    topic_id: str
    due_on: date


async def unannounced_due(
    session: AsyncSession, today: date, policy: HealthMaintenancePolicy
) -> list[DueTopic]:
    """Topics due (or overdue) at `today` whose due date nobody was told about yet, by
    patient. SQL narrows to what may be due; `should_notify` decides, as on the feed."""
    stmt = (
        select(T.patient_id, T.topic_id, T.due_on, T.postponed, T.notified_for)
        .where(
            T.due_on.is_not(None),
            T.due_on <= today + policy.due_soon,
            T.postponed.is_(False),
            or_(T.notified_for.is_(None), T.notified_for != T.due_on),
        )
        .order_by(T.patient_id, T.topic_id)
    )
    return [
        DueTopic(row.patient_id, row.topic_id, row.due_on)
        for row in (await session.execute(stmt)).all()
        if should_notify(
            topic_status(row.due_on, row.postponed, today, policy), row.due_on, row.notified_for
        )
    ]


async def mark_announced(session: AsyncSession, topic: DueTopic) -> bool:
    """Record that `topic.due_on` was told; False if it was told meanwhile (another run, the
    feed) or the topic changed. On PostgreSQL the UPDATE waits for a concurrent run's
    transaction and then finds the marker set; SQLite serializes writers."""
    stmt = (
        update(T)
        .where(
            T.patient_id == topic.patient_id,
            T.topic_id == topic.topic_id,
            T.due_on == topic.due_on,
            T.postponed.is_(False),
            or_(T.notified_for.is_(None), T.notified_for != topic.due_on),
        )
        .values(notified_for=topic.due_on)
    )
    result = await session.execute(stmt, execution_options={"synchronize_session": False})
    return cast(CursorResult[Any], result).rowcount == 1
