"""Push devices: registered per account, read by notify() and the delivery dispatcher."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.devices import DeviceAddress, Platform
from persistence import models as m
from persistence.models import new_id


@dataclass(frozen=True)
class StoredDevice:
    id: str
    account_id: str
    platform: Platform
    name: str
    created_at: datetime
    last_used_at: datetime | None
    target: DeviceAddress

    @classmethod
    def from_row(cls, row: m.Device) -> StoredDevice:
        platform = Platform(row.platform)
        target = DeviceAddress(platform, row.address, row.p256dh, row.auth)
        return cls(
            row.id, row.account_id, platform, row.name, row.created_at, row.last_used_at, target
        )


def address_hash(target: DeviceAddress) -> str:
    return hashlib.sha256(f"{target.platform.value}:{target.address}".encode()).hexdigest()


class DeviceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of_account(self, account_id: str) -> list[StoredDevice]:
        d = m.Device
        stmt = select(d).where(d.account_id == account_id).order_by(d.created_at, d.id)
        return [StoredDevice.from_row(row) for row in await self._session.scalars(stmt)]

    async def register(
        self, account_id: str, target: DeviceAddress, name: str, now: datetime
    ) -> StoredDevice:
        """Add the device, or take it over (new keys, name, account) if it is registered."""
        digest = address_hash(target)
        row = (
            await self._session.scalars(select(m.Device).where(m.Device.address_hash == digest))
        ).one_or_none()
        if row is None:
            row = m.Device(
                id=new_id("dev"),
                address_hash=digest,
                address=target.address,
                platform=target.platform.value,
                created_at=now,
                last_used_at=None,
                account_id=account_id,
                name=name,
                p256dh=target.p256dh,
                auth=target.auth,
            )
            self._session.add(row)
        else:
            row.account_id, row.name = account_id, name
            row.p256dh, row.auth = target.p256dh, target.auth
        await self._session.flush()
        return StoredDevice.from_row(row)

    async def remove(self, account_id: str, device_id: str, now: datetime) -> bool:
        """Forget one of the account's devices; False if it has none of that id."""
        d = m.Device
        stmt = select(d.id).where(d.id == device_id, d.account_id == account_id)
        if (await self._session.execute(stmt)).first() is None:
            return False
        await forget_device(self._session, device_id, now, "unregistered")
        return True


async def forget_device(session: AsyncSession, device_id: str, now: datetime, why: str) -> None:
    """Delete the device; its pending pushes will never go out, so they are closed."""
    d = m.NotificationDelivery
    await session.execute(
        update(d)
        .where(
            d.channel == "PUSH",
            d.destination == device_id,
            d.sent_at.is_(None),
            d.failed_at.is_(None),
        )
        .values(failed_at=now, last_error=f"device {why}")
    )
    await session.execute(delete(m.Device).where(m.Device.id == device_id))


async def device_by_id(session: AsyncSession, device_id: str) -> StoredDevice | None:
    row = await session.get(m.Device, device_id)
    return None if row is None else StoredDevice.from_row(row)


async def devices_by_account(session: AsyncSession, account_ids: list[str]) -> dict[str, list[str]]:
    """The device ids of each account (notify() enqueues one push per device)."""
    if not account_ids:
        return {}
    found: dict[str, list[str]] = {}
    rows = await session.execute(DEVICES_BY_ACCOUNT, {"ids": account_ids})
    for account_id, device_id in rows.all():
        found.setdefault(account_id, []).append(device_id)
    return found


# Built once, not per event notified (a statement built per call left its parameters to the
# garbage collector: persistence/notifications.py).
DEVICES_BY_ACCOUNT = (
    select(m.Device.account_id, m.Device.id)
    .where(m.Device.account_id.in_(bindparam("ids", expanding=True)))
    .order_by(m.Device.account_id, m.Device.created_at, m.Device.id)
)


async def mark_used(session: AsyncSession, device_id: str, now: datetime) -> None:
    await session.execute(update(m.Device).where(m.Device.id == device_id).values(last_used_at=now))
