"""The viewer's notification feed."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from persistence import models as m
from resolvers import notifications as r
from schema.base import Info, Node

if TYPE_CHECKING:
    from schema.patients import Patient


@strawberry.enum
class NotificationKind(Enum):
    MESSAGE_RECEIVED = "MESSAGE_RECEIVED"
    RESULT_RELEASED = "RESULT_RELEASED"
    APPOINTMENT_REMINDER = "APPOINTMENT_REMINDER"
    STATEMENT_ISSUED = "STATEMENT_ISSUED"
    APPOINTMENT_CHANGED = "APPOINTMENT_CHANGED"
    NOTE_SIGNED = "NOTE_SIGNED"
    HEALTH_MAINTENANCE_DUE = "HEALTH_MAINTENANCE_DUE"
    APPOINTMENT_REQUEST_ANSWERED = "APPOINTMENT_REQUEST_ANSWERED"
    PRESCRIPTION_RENEWAL_ANSWERED = "PRESCRIPTION_RENEWAL_ANSWERED"
    TERMS_UPDATED = "TERMS_UPDATED"


@strawberry.type
class Notification(Node):
    kind: NotificationKind
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str | None]

    def node_id(self) -> str:
        return self.internal_id

    @strawberry.field(description="The patient it is about; null for account notifications.")
    async def patient(
        self, info: Info
    ) -> Annotated[Patient, strawberry.lazy("schema.patients")] | None:
        return await r.notification_patient(info, self.patient_id)

    @classmethod
    def from_row(cls, row: m.Notification) -> Notification:
        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            kind=NotificationKind(row.kind),
            title=row.title,
            body=row.body,
            created_at=row.created_at,
            read_at=row.read_at,
        )
