"""Health maintenance topics, with their status as of today and whether they can be booked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.access import PatientGrant
from domain.health_maintenance import HealthMaintenancePolicy, TopicKind, TopicStatus, topic_status
from schema.health_maintenance import HealthMaintenanceTopic

if TYPE_CHECKING:
    from schema.base import Info

SHOWN = [TopicStatus.OVERDUE, TopicStatus.DUE, TopicStatus.NOT_DUE, TopicStatus.POSTPONED]


async def topics(info: Info, grant: PatientGrant) -> list[HealthMaintenanceTopic]:
    """Overdue first, then due, upcoming, postponed and completed; by due date within each."""
    settings = info.context.services.settings
    today = settings.ages.today(info.context.now)
    rows = await info.context.loaders.health_maintenance.get(grant) or []
    found = []
    for row in rows:
        status = topic_status(row.due_on, row.postponed, today, HealthMaintenancePolicy())
        schedulable = row.visit_type is not None and settings.appointments.may_self_schedule(
            row.department_id or "", row.visit_type
        )
        found.append(
            HealthMaintenanceTopic(
                topic_id=row.topic_id,
                name=row.name,
                kind=TopicKind(row.kind),
                status=status,
                due_on=row.due_on,
                last_done_on=row.last_done_on,
                visit_type=row.visit_type,
                can_self_schedule=schedulable,
            )
        )
    rank = {s: i for i, s in enumerate([*SHOWN, TopicStatus.COMPLETED])}
    return sorted(found, key=lambda t: (rank[t.status], t.due_on or today, t.name))
