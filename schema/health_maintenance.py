"""Health maintenance topics: what is due and overdue, and where to book it."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.health_maintenance import TopicKind, TopicStatus

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
