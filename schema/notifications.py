"""The viewer's notification feed and the channels that tell the viewer about each kind."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import notification_channels as rules
from domain.notification_channels import Channel
from resolvers import notifications as r
from schema.base import Connection, Info, Node, cursor_values, page_size

if TYPE_CHECKING:
    from persistence import models as m
    from schema.patients import Patient

NotificationChannel = strawberry.enum(Channel, name="NotificationChannel")


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
        from schema.patients import Patient

        return await Patient.of(info, self.patient_id) if self.patient_id else None

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Notification | None:
        """node(id): the viewer's own, visible notifications only; anything else is null."""
        row = await r.notification(info.context, row_id)
        return cls.from_row(row) if row else None

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


@strawberry.type
class NotificationPreference:
    kind: NotificationKind
    channels: list[Channel]
    is_default: bool = strawberry.field(description="No choice made: the default channels.")

    @classmethod
    def every_kind(cls, stored: dict[str, list[str]]) -> list[NotificationPreference]:
        """Every kind, as now in force, from the stored choices (kind -> channels)."""
        return [
            cls(
                kind=kind,
                channels=rules.ordered(rules.channels_for(stored.get(kind.value))),
                is_default=kind.value not in stored,
            )
            for kind in NotificationKind
        ]


# -- the lists the viewer shows -----------------------------------------------------------
async def notifications(
    info: Info, unread_only: bool | None, first: int | None, after: str | None
) -> Connection[Notification]:
    found = await r.notifications(
        info.context, bool(unread_only), page_size(first), cursor_values(after, list(r.CURSOR))
    )
    return Connection.of(found, Notification.from_row)


async def notification_preferences(info: Info) -> list[NotificationPreference]:
    return NotificationPreference.every_kind(await r.notification_preferences(info.context))
