"""HEALTH_MAINTENANCE_UPDATED applied, in the EHR feed's transaction: the patient's topics
become exactly the list sent; a topic that became due (or overdue) for a new due date is
told once, through notify() (preferences honoured, generic text)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
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
        text = ehr.maintenance_notice()
        notice = Notice(
            NOTICE_KIND, RecordArea.HEALTH_MAINTENANCE, text.title, text.body, c.patient_id
        )
        await notify(session, c.patient_id, notice, now, ages)
    return c.patient_id
