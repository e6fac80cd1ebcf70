"""An account's notification preferences: one statement per batch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loaders.base import SessionLoader
from persistence import models as m


class NotificationPreferencesByAccountLoader(SessionLoader[str, dict[str, list[str]]]):
    """Keys are account ids (the viewer's own); values map kind -> chosen channels."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[str]
    ) -> dict[str, dict[str, list[str]]]:
        p = m.NotificationPreference
        stmt = select(p.account_id, p.kind, p.channels).where(p.account_id.in_(keys))
        found: dict[str, dict[str, list[str]]] = defaultdict(dict)
        for account_id, kind, channels in await session.execute(stmt):
            found[account_id][kind] = list(channels)
        return {key: found.get(key, {}) for key in keys}
