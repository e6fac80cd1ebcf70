"""An account's open sessions (viewer.sessions)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from loaders.base import SessionLoader
from persistence import models as m
from persistence.sessions import open_sessions


class SessionsByAccountLoader(SessionLoader[str, list[m.AccountSession]]):
    """Keys are account ids (the viewer's own only: `viewer` is the signed-in account)."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[str]
    ) -> dict[str, list[m.AccountSession]]:
        found: dict[str, list[m.AccountSession]] = defaultdict(list)
        for row in await open_sessions(session, list(keys)):
            found[row.account_id].append(row)
        return {key: found.get(key, []) for key in keys}
