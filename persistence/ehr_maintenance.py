"""HEALTH_MAINTENANCE_UPDATED applied, in the EHR feed's transaction: the patient's topics
become exactly the list sent; a topic that became due (or overdue) for a new due date is
told once, through notify() (preferences honoured, generic text). The periodic job
(usecases/health_maintenance.py) tells the topics that became due with time alone, with
the same marker (`notified_for`: the due date last told about)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain import ehr
from domain.access import AgePolicy
from domain.ehr_maintenance import MaintenanceUpdated
from domain.health_maintenance import HealthMaintenancePolicy, should_notify, topic_status
from domain.scopes import RecordArea
from persistence import models as m
from persistence.notify import Notice, notify

NOTICE_KIND = "HEALTH_MAINTENANCE_DUE"


async def maintenance_updated(
    session: AsyncSession,
    c: MaintenanceUpdated,
    now: datetime,
    ages: AgePolicy,
    policy: HealthMaintenancePolicy,
) -> str:
    if await session.get(m.Patient, c.patient_id) is None:
        raise ehr.unknown("data.patientId", "patient")
    t = m.HealthMaintenanceTopic
    kept = [topic.topic_id for topic in c.topics]
    await session.execute(delete(t).where(t.patient_id == c.patient_id, t.topic_id.not_in(kept)))
    rows = {
        row.topic_id: row
        for row in (await session.scalars(select(t).where(t.patient_id == c.patient_id))).all()
    }
    today = ages.today(now)
    newly_due = False
    for topic in c.topics:
        row = rows.get(topic.topic_id)
        if row is None:
            row = t(patient_id=c.patient_id, topic_id=topic.topic_id, notified_for=None)
            session.add(row)
        row.name, row.kind = topic.name, topic.kind.value
        row.due_on, row.last_done_on, row.postponed = (
            topic.due_on,
            topic.last_done_on,
            topic.postponed,
        )
        row.visit_type, row.department_id, row.updated_at = (
            topic.visit_type,
            topic.department_id,
            now,
        )
        status = topic_status(topic.due_on, topic.postponed, today, policy)
        if should_notify(status, topic.due_on, row.notified_for):
            row.notified_for = topic.due_on
            newly_due = True
    await session.flush()
    if newly_due:
        await announce(session, c.patient_id, now, ages)
    return c.patient_id


async def announce(session: AsyncSession, patient_id: str, now: datetime, ages: AgePolicy) -> None:
    """One generic notice for whatever became due together: it never names a topic."""
    text = ehr.maintenance_notice()
    notice = Notice(NOTICE_KIND, RecordArea.HEALTH_MAINTENANCE, text.title, text.body, patient_id)
    await notify(session, patient_id, notice, now, ages)


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
    t = m.HealthMaintenanceTopic
    stmt = (
        select(t.patient_id, t.topic_id, t.due_on, t.postponed, t.notified_for)
        .where(
            t.due_on.is_not(None),
            t.due_on <= today + policy.due_soon,
            t.postponed.is_(False),
            or_(t.notified_for.is_(None), t.notified_for != t.due_on),
        )
        .order_by(t.patient_id, t.topic_id)
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
    t = m.HealthMaintenanceTopic
    stmt = (
        update(t)
        .where(
            t.patient_id == topic.patient_id,
            t.topic_id == topic.topic_id,
            t.due_on == topic.due_on,
            t.postponed.is_(False),
            or_(t.notified_for.is_(None), t.notified_for != topic.due_on),
        )
        .values(notified_for=topic.due_on)
    )
    result = await session.execute(stmt, execution_options={"synchronize_session": False})
    return cast(CursorResult[Any], result).rowcount == 1
