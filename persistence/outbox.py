"""The outbox: events written in the same transaction as the change that caused them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.events import EventKind
from persistence import models as m


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(
        self,
        kind: EventKind,
        *,
        object_id: str,
        now: datetime,
        patient_id: str | None = None,
        account_id: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> m.OutboxEvent:
        """Add an event to the current transaction: it exists only if the transaction commits.

        `patient_id` says whose record it is about (subscribers are checked against it);
        `account_id` addresses it to one account (notifications).
        """
        event = m.OutboxEvent(
            kind=kind.value,
            patient_id=patient_id,
            account_id=account_id,
            object_id=object_id,
            payload=payload or {},
            created_at=now,
        )
        self.session.add(event)
        return event
