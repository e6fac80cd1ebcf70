"""HEALTH_MAINTENANCE_UPDATED: the patient's topics become exactly the list sent; a topic
that became due (or overdue) for a new due date is told once, through notify() (preferences
honoured, generic text)."""

from __future__ import annotations

from datetime import datetime

from domain import ehr
from domain.ehr_maintenance import MaintenanceUpdated
from domain.health_maintenance import HealthMaintenancePolicy, should_notify, topic_status
from domain.scopes import RecordArea
from persistence import ehr_maintenance as rows
from persistence import models as m
from persistence.uow import UnitOfWork
from usecases.ehr_ports import Applied, Ports, tell

NOTICE_KIND = "HEALTH_MAINTENANCE_DUE"


async def maintenance_updated(
    c: MaintenanceUpdated, uow: UnitOfWork, now: datetime, ports: Ports
) -> Applied:
    policy = HealthMaintenancePolicy()
    await uow.ehr.require(m.Patient, c.patient_id, "data.patientId", "patient")
    existing = await rows.keep_only(uow.session, c.patient_id, [t.topic_id for t in c.topics])
    today = ports.ages.today(now)
    newly_due = False
    for topic in c.topics:
        row = rows.write_topic(uow.session, c.patient_id, existing.get(topic.topic_id), topic, now)
        status = topic_status(topic.due_on, topic.postponed, today, policy)
        if should_notify(status, topic.due_on, row.notified_for):
            row.notified_for = topic.due_on
            newly_due = True
    await uow.session.flush()
    if newly_due:
        text = ehr.maintenance_notice()
        area = RecordArea.HEALTH_MAINTENANCE
        await tell(uow, c.patient_id, NOTICE_KIND, area, text, c.patient_id, now, ports.ages)
    return Applied(c.patient_id, c.patient_id)
