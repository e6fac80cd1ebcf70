"""Single sign-on rows: flows under way, linked identities, one-time handoff codes.

Taking a flow or a handoff is a conditional UPDATE (unused and unexpired): of two requests
with the same state or code, exactly one wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Update, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.identity import normalize_username
from persistence import models as m
from persistence.models import new_id


@dataclass(frozen=True)
class PendingLogin:
    provider: str
    nonce: str
    code_verifier: str
    return_to: str
    client_challenge: str
    link_account_id: str | None


@dataclass(frozen=True)
class LinkedIdentity:
    id: str
    account_id: str
    provider: str
    linked_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_row(cls, row: m.SsoIdentity) -> LinkedIdentity:
        return cls(row.id, row.account_id, row.provider, row.linked_at, row.last_used_at)


async def _taken(session: AsyncSession, statement: Update) -> bool:
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount == 1


class SsoRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- flows -----------------------------------------------------------------------------
    def add_login(
        self, state_hash: str, login: PendingLogin, now: datetime, expires_at: datetime
    ) -> None:
        self._session.add(
            m.SsoLogin(
                id=new_id("sso"),
                state_hash=state_hash,
                created_at=now,
                expires_at=expires_at,
                used_at=None,
                **login.__dict__,
            )
        )

    async def take_login(self, state_hash: str, now: datetime) -> PendingLogin | None:
        """The flow of this state, marked used; None if unknown, used or expired."""
        s = m.SsoLogin
        row = (await self._session.scalars(select(s).where(s.state_hash == state_hash))).first()
        if row is None:
            return None
        take = (
            update(s)
            .where(s.id == row.id, s.used_at.is_(None), s.expires_at > now)
            .values(used_at=now)
        )
        if not await _taken(self._session, take):
            return None
        return PendingLogin(
            row.provider,
            row.nonce,
            row.code_verifier,
            row.return_to,
            row.client_challenge,
            row.link_account_id,
        )

    # -- identities --------------------------------------------------------------------------
    async def identity(self, provider: str, subject: str) -> LinkedIdentity | None:
        i = m.SsoIdentity
        stmt = select(i).where(i.provider == provider, i.subject == subject)
        row = (await self._session.scalars(stmt)).first()
        return None if row is None else LinkedIdentity.from_row(row)

    async def link(self, account_id: str, provider: str, subject: str, now: datetime) -> str:
        identity_id = new_id("sid")
        self._session.add(
            m.SsoIdentity(
                id=identity_id,
                account_id=account_id,
                provider=provider,
                subject=subject,
                linked_at=now,
                last_used_at=now,
            )
        )
        await self._session.flush()
        return identity_id

    async def used(self, identity_id: str, now: datetime) -> None:
        i = m.SsoIdentity
        await self._session.execute(update(i).where(i.id == identity_id).values(last_used_at=now))

    async def identities_of(self, account_id: str) -> list[LinkedIdentity]:
        i = m.SsoIdentity
        stmt = select(i).where(i.account_id == account_id).order_by(i.linked_at, i.id)
        return [LinkedIdentity.from_row(row) for row in await self._session.scalars(stmt)]

    async def unlink(self, account_id: str, identity_id: str) -> bool:
        i = m.SsoIdentity
        stmt = delete(i).where(i.id == identity_id, i.account_id == account_id)
        result = await self._session.execute(stmt)
        return cast(CursorResult[Any], result).rowcount == 1

    async def account_by_username(self, username: str) -> str | None:
        a = m.Account
        stmt = select(a.id).where(a.username == normalize_username(username))
        return (await self._session.execute(stmt)).scalar_one_or_none()

    async def sso_only(self, account_id: str) -> bool:
        stmt = select(m.Account.sso_only).where(m.Account.id == account_id)
        return bool((await self._session.execute(stmt)).scalar_one())

    async def set_sso_only(self, account_id: str, sso_only: bool) -> None:
        a = m.Account
        await self._session.execute(update(a).where(a.id == account_id).values(sso_only=sso_only))

    # -- handoffs ------------------------------------------------------------------------------
    def add_handoff(
        self, code_hash: str, account_id: str, challenge: str, now: datetime, expires_at: datetime
    ) -> None:
        self._session.add(
            m.SsoHandoff(
                id=new_id("sho"),
                code_hash=code_hash,
                account_id=account_id,
                client_challenge=challenge,
                created_at=now,
                expires_at=expires_at,
                used_at=None,
            )
        )

    async def take_handoff(self, code_hash: str, now: datetime) -> tuple[str, str] | None:
        """(account id, client challenge) of an unused, unexpired code, now used."""
        h = m.SsoHandoff
        row = (await self._session.scalars(select(h).where(h.code_hash == code_hash))).first()
        if row is None:
            return None
        take = (
            update(h)
            .where(h.id == row.id, h.used_at.is_(None), h.expires_at > now)
            .values(used_at=now)
        )
        if not await _taken(self._session, take):
            return None
        return row.account_id, row.client_challenge
