"""Account sessions (docs/sessions.md): started at sign-in, extended at each refresh,
touched at most once a minute, ended for good.

Ending a session also revokes its refresh tokens (their family is the session), in the
same transaction: neither its access tokens (refused by the authentication statement,
persistence/queries/people.py) nor its refresh tokens work once it has ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Update, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.sessions import TOUCH_EVERY_SECONDS, EndReason
from persistence import models as m
from persistence.paging import one_of

_S, _T = m.AccountSession, m.RefreshToken


@dataclass(frozen=True)
class NewSession:
    account_id: str
    session_id: str
    device: str
    user_agent: str | None
    client_address: str | None


async def _changed(session: AsyncSession, statement: Update) -> int:
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def start(self, new: NewSession, now: datetime, expires_at: datetime) -> None:
        self._session.add(
            _S(
                id=new.session_id,
                account_id=new.account_id,
                device=new.device[:100],
                user_agent=(new.user_agent or None) and new.user_agent[:500],
                client_address=new.client_address,
                started_at=now,
                last_used_at=now,
                expires_at=expires_at,
                ended_at=None,
                end_reason=None,
            )
        )

    async def extend(self, session_id: str, now: datetime, expires_at: datetime) -> None:
        """A refresh: the session lives as long as its newest refresh token, and was used."""
        stmt = update(_S).where(_S.id == session_id).values(expires_at=expires_at, last_used_at=now)
        await _changed(self._session, stmt)

    async def is_open(self, session_id: str) -> bool:
        stmt = select(_S.id).where(_S.id == session_id, _S.ended_at.is_(None))
        return (await self._session.scalar(stmt)) is not None

    async def end(
        self, session_id: str, now: datetime, reason: EndReason, account_id: str | None = None
    ) -> bool:
        """End one session (of `account_id`, when given); False if there was none open."""
        session = update(_S).where(_S.id == session_id, _S.ended_at.is_(None))
        tokens = update(_T).where(_T.family_id == session_id, _T.revoked_at.is_(None))
        if account_id is not None:
            session = session.where(_S.account_id == account_id)
            tokens = tokens.where(_T.account_id == account_id)
        # Tokens first, then the session: the order a refresh locks them in (the used token,
        # then the session it extends), so a refresh racing a sign-out or a re-use of its
        # token waits instead of deadlocking.
        await _changed(self._session, tokens.values(revoked_at=now))
        ended = await _changed(self._session, session.values(ended_at=now, end_reason=reason))
        return ended == 1

    async def end_all(
        self, account_id: str, now: datetime, reason: EndReason, keep: str | None = None
    ) -> int:
        """End every session of the account but `keep` (the caller's own); how many ended."""
        sessions = update(_S).where(_S.account_id == account_id, _S.ended_at.is_(None))
        tokens = update(_T).where(_T.account_id == account_id, _T.revoked_at.is_(None))
        if keep is not None:
            sessions, tokens = sessions.where(_S.id != keep), tokens.where(_T.family_id != keep)
        await _changed(self._session, tokens.values(revoked_at=now))  # tokens first: see `end`
        ended = await _changed(self._session, sessions.values(ended_at=now, end_reason=reason))
        return ended

    async def touch(self, session_id: str, now: datetime, client_address: str | None) -> bool:
        """Note a use, unless one was noted within the last minute (so a busy session costs
        one write a minute, and concurrent requests do not all write)."""
        stmt = (
            update(_S)
            .where(
                _S.id == session_id,
                _S.last_used_at <= now - timedelta(seconds=TOUCH_EVERY_SECONDS),
            )
            .values(last_used_at=now, client_address=client_address)
        )
        return await _changed(self._session, stmt) == 1


OPEN_SESSIONS = (
    select(_S)
    .where(one_of(_S.account_id, "ids"), _S.ended_at.is_(None))
    .order_by(_S.last_used_at.desc(), _S.id)
)


async def open_sessions(session: AsyncSession, account_ids: list[str]) -> list[m.AccountSession]:
    """The sessions of these accounts that have not ended, most recently used first (those
    past their expiry too: `viewer.sessions` drops them as of the request's time)."""
    return list((await session.scalars(OPEN_SESSIONS, {"ids": account_ids})).all())


async def start_session(
    sessions: async_sessionmaker[AsyncSession], new: NewSession, now: datetime, ttl: timedelta
) -> None:
    """A session started outside a sign-in (the benchmark's and tests' accounts), committed."""
    async with sessions() as session:
        SessionRepository(session).start(new, now, now + ttl)
        await session.commit()
