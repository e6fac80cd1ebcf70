"""An account's push devices and linked sign-in identities: one statement per batch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loaders.base import SessionLoader
from persistence import models as m
from persistence.devices import StoredDevice
from persistence.sso import LinkedIdentity


class DevicesByAccountLoader(SessionLoader[str, list[StoredDevice]]):
    """Keys are account ids (the viewer's own)."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[str]
    ) -> dict[str, list[StoredDevice]]:
        d = m.Device
        stmt = select(d).where(d.account_id.in_(keys)).order_by(d.created_at, d.id)
        found: dict[str, list[StoredDevice]] = defaultdict(list)
        for row in await session.scalars(stmt):
            found[row.account_id].append(StoredDevice.from_row(row))
        return {key: found.get(key, []) for key in keys}


class IdentitiesByAccountLoader(SessionLoader[str, list[LinkedIdentity]]):
    """Keys are account ids (the viewer's own): its single sign-on identities."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[str]
    ) -> dict[str, list[LinkedIdentity]]:
        i = m.SsoIdentity
        stmt = select(i).where(i.account_id.in_(keys)).order_by(i.linked_at, i.id)
        found: dict[str, list[LinkedIdentity]] = defaultdict(list)
        for row in await session.scalars(stmt):
            found[row.account_id].append(LinkedIdentity.from_row(row))
        return {key: found.get(key, []) for key in keys}
