"""An account's push devices and linked sign-in identities: one statement per batch."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loaders.base import AccountListLoader
from persistence import models as m
from persistence.devices import StoredDevice
from persistence.sso import LinkedIdentity


class DevicesByAccountLoader(AccountListLoader[StoredDevice]):
    async def fetch_pairs(
        self, session: AsyncSession, account_ids: Sequence[str]
    ) -> list[tuple[str, StoredDevice]]:
        d = m.Device
        stmt = select(d).where(d.account_id.in_(account_ids)).order_by(d.created_at, d.id)
        return [(row.account_id, StoredDevice.from_row(row)) for row in await session.scalars(stmt)]


class IdentitiesByAccountLoader(AccountListLoader[LinkedIdentity]):
    """An account's single sign-on identities."""

    async def fetch_pairs(
        self, session: AsyncSession, account_ids: Sequence[str]
    ) -> list[tuple[str, LinkedIdentity]]:
        i = m.SsoIdentity
        stmt = select(i).where(i.account_id.in_(account_ids)).order_by(i.linked_at, i.id)
        return [
            (row.account_id, LinkedIdentity.from_row(row)) for row in await session.scalars(stmt)
        ]
