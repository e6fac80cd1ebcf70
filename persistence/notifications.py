"""Notification preferences per account and kind, the contact points the channels use, and
the account's own notifications being marked read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from persistence import models as m
from persistence.messages import upsert


@dataclass(frozen=True)
class Contact:
    email: str | None
    phone: str | None  # the phone of the account's own patient record, if it has one


async def channels_by_account(
    session: AsyncSession, account_ids: Sequence[str], kind: str
) -> dict[str, list[str]]:
    """Stored channel choices for `kind`; accounts without one are absent (defaults apply)."""
    values = {"ids": list(account_ids), "kind": kind}
    return {
        account_id: list(channels)
        for account_id, channels in await session.execute(CHANNELS_BY_ACCOUNT, values)
    }


# Statements built once, not per event notified: one built per call (its IN list's
# parameters and their annotated copies) left some 40 cyclic objects, about 15 KB, for the
# garbage collector at every event written (docs/realtime.md, idle memory, sixth step).
_P = m.NotificationPreference
CHANNELS_BY_ACCOUNT = select(_P.account_id, _P.channels).where(
    _P.account_id.in_(bindparam("ids", expanding=True)), _P.kind == bindparam("kind")
)
CONTACTS = (
    select(m.Account.id, m.Account.email, m.Patient.phone)
    .outerjoin(m.Patient, m.Patient.id == m.Account.patient_id)
    .where(m.Account.id.in_(bindparam("ids", expanding=True)))
)


async def contacts(session: AsyncSession, account_ids: Sequence[str]) -> dict[str, Contact]:
    return {
        account_id: Contact(email or None, phone or None)
        for account_id, email, phone in await session.execute(CONTACTS, {"ids": list(account_ids)})
    }


class NotificationRepository:
    """The signed-in account's own notifications and preferences (never anyone else's)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def own_ids(self, account_id: str, ids: Sequence[str]) -> set[str]:
        stmt = select(m.Notification.id).where(
            m.Notification.account_id == account_id, m.Notification.id.in_(ids)
        )
        return set(await self.session.scalars(stmt))

    async def unread_ids(self, account_id: str) -> list[str]:
        stmt = select(m.Notification.id).where(
            m.Notification.account_id == account_id, m.Notification.read_at.is_(None)
        )
        return list(await self.session.scalars(stmt))

    async def mark_read(self, account_id: str, ids: Sequence[str], now: datetime) -> int:
        """Mark the account's unread notifications among `ids` read; how many changed."""
        stmt = (
            update(m.Notification)
            .where(
                m.Notification.account_id == account_id,
                m.Notification.id.in_(ids),
                m.Notification.read_at.is_(None),
            )
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return cast(CursorResult[Any], result).rowcount

    async def by_ids(self, account_id: str, ids: Sequence[str]) -> list[m.Notification]:
        stmt = (
            select(m.Notification)
            .where(m.Notification.account_id == account_id, m.Notification.id.in_(ids))
            .order_by(m.Notification.created_at.desc(), m.Notification.id.desc())
        )
        return list(await self.session.scalars(stmt))

    async def preferences(self, account_id: str) -> dict[str, list[str]]:
        p = m.NotificationPreference
        stmt = select(p.kind, p.channels).where(p.account_id == account_id)
        return {kind: list(channels) for kind, channels in await self.session.execute(stmt)}

    async def set_preference(
        self, account_id: str, kind: str, channels: list[str], now: datetime
    ) -> None:
        values = {"account_id": account_id, "kind": kind, "channels": channels, "updated_at": now}
        stmt = upsert(self.session, m.NotificationPreference, values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[m.NotificationPreference.account_id, m.NotificationPreference.kind],
            set_={"channels": stmt.excluded.channels, "updated_at": stmt.excluded.updated_at},
        )
        await self.session.execute(stmt)
