"""Health maintenance topics: what is due and overdue, and where to book it."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.access import PatientGrant
from domain.health_maintenance import TopicKind, TopicStatus
from resolvers import health_maintenance as r
from schema.base import Info

TopicKindEnum = strawberry.enum(TopicKind, name="HealthMaintenanceKind")
TopicStatusEnum = strawberry.enum(TopicStatus, name="HealthMaintenanceStatus")


@strawberry.type
class HealthMaintenanceTopic:
    topic_id: str
    name: str
    kind: TopicKind
    status: TopicStatus
    due_on: date | None
    last_done_on: date | None
    visit_type: str | None = strawberry.field(description="The visit that takes care of it.")
    can_self_schedule: bool = strawberry.field(
        description="The visit type may be booked online: offer availableSlots(filter: "
        "{visitType}) for it; otherwise the patient requests it."
    )

    @classmethod
    def of(cls, topic: r.Topic) -> HealthMaintenanceTopic:
        row = topic.row
        return cls(
            topic_id=row.topic_id,
            name=row.name,
            kind=TopicKind(row.kind),
            status=topic.status,
            due_on=row.due_on,
            last_done_on=row.last_done_on,
            visit_type=row.visit_type,
            can_self_schedule=topic.can_self_schedule,
        )


async def topics(info: Info, grant: PatientGrant) -> list[HealthMaintenanceTopic]:
    """Patient.healthMaintenance: overdue first, then due, upcoming, postponed, completed."""
    return [HealthMaintenanceTopic.of(t) for t in await r.topics(info.context, grant)]
