"""Health maintenance topics, with their status as of today and whether they can be booked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain.access import PatientGrant
from domain.health_maintenance import HealthMaintenancePolicy, TopicStatus, topic_status

if TYPE_CHECKING:
    from persistence import models as m
    from runtime.context import Context

SHOWN = [TopicStatus.OVERDUE, TopicStatus.DUE, TopicStatus.NOT_DUE, TopicStatus.POSTPONED]


@dataclass(frozen=True)
class Topic:
    row: m.HealthMaintenanceTopic
    status: TopicStatus  # as of today
    can_self_schedule: bool


async def topics(ctx: Context, grant: PatientGrant) -> list[Topic]:
    """Overdue first, then due, upcoming, postponed and completed; by due date within each."""
    settings = ctx.services.settings
    today = settings.ages.today(ctx.now)
    rows = await ctx.loaders.health_maintenance.get(grant) or []
    found = []
    for row in rows:
        status = topic_status(row.due_on, row.postponed, today, HealthMaintenancePolicy())
        schedulable = row.visit_type is not None and settings.appointments.may_self_schedule(
            row.department_id or "", row.visit_type
        )
        found.append(Topic(row, status, schedulable))
    rank = {s: i for i, s in enumerate([*SHOWN, TopicStatus.COMPLETED])}
    return sorted(found, key=lambda t: (rank[t.status], t.row.due_on or today, t.row.name))
