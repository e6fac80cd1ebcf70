"""An account's open sessions (viewer.sessions)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from loaders.base import AccountListLoader
from persistence import models as m
from persistence.sessions import open_sessions


class SessionsByAccountLoader(AccountListLoader[m.AccountSession]):
    """The viewer's own only: `viewer` is the signed-in account."""

    async def fetch_pairs(
        self, session: AsyncSession, account_ids: Sequence[str]
    ) -> list[tuple[str, m.AccountSession]]:
        return [(row.account_id, row) for row in await open_sessions(session, list(account_ids))]
