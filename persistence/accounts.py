"""Repositories for accounts (sign-in state) and refresh tokens, used through a unit of work.

Repositories hand out plain values, not ORM objects, so nothing lazy-loads or goes stale
once their transaction is over. Every state change is a conditional UPDATE that says what
it expects to find and reports whether it found it: concurrent requests on one account or
one token cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Update, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Principal
from domain.identity import RefreshTokenState, SignInState, normalize_username
from persistence import models as m
from persistence.models import new_id
from persistence.queries.people import principal_for


async def _changed(session: AsyncSession, statement: Update) -> int:
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount


@dataclass(frozen=True)
class Credentials:
    account_id: str
    password_hash: str
    state: SignInState


@dataclass(frozen=True)
class AccountContact:
    account_id: str
    username: str
    email: str


@dataclass(frozen=True)
class StoredRefreshToken:
    id: str
    family_id: str
    account_id: str
    state: RefreshTokenState


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def credentials(self, username: str) -> Credentials | None:
        a = m.Account
        stmt = select(a.id, a.password_hash, a.failed_sign_ins, a.locked_until, a.sso_only).where(
            a.username == username
        )
        row = (await self._session.execute(stmt)).one_or_none()
        if row is None:
            return None
        # An SSO-only account has no password that works: checked against the dummy hash (same
        # time), refused, and counted towards the lockout like any wrong password.
        account_id, password_hash, failed, locked_until, sso_only = row
        return Credentials(
            account_id, "" if sso_only else password_hash, SignInState(failed, locked_until)
        )

    async def sign_in_state(self, account_id: str) -> SignInState:
        stmt = select(m.Account.failed_sign_ins, m.Account.locked_until).where(
            m.Account.id == account_id
        )
        failed, locked_until = (await self._session.execute(stmt)).one()
        return SignInState(failed, locked_until)

    async def replace_sign_in_state(
        self,
        account_id: str,
        expected: SignInState,
        new: SignInState,
        signed_in_at: datetime | None = None,
    ) -> bool:
        """Store `new` if the account still has `expected` (compare-and-set); False if not."""
        a = m.Account
        locked = (
            a.locked_until.is_(None)
            if expected.locked_until is None
            else a.locked_until == expected.locked_until
        )
        values: dict[str, Any] = {
            "failed_sign_ins": new.failed_attempts,
            "locked_until": new.locked_until,
        }
        if signed_in_at is not None:
            values["last_login_at"] = signed_in_at
        stmt = (
            update(a)
            .where(a.id == account_id, a.failed_sign_ins == expected.failed_attempts, locked)
            .values(values)
        )
        return await _changed(self._session, stmt) == 1

    async def principal(self, account_id: str, now: datetime) -> tuple[Principal | None, str]:
        return await principal_for(self._session, account_id, now)

    # -- the account lifecycle (resolvers/accounts.py) -------------------------------------
    async def contact(self, account_id: str) -> AccountContact:
        a = m.Account
        stmt = select(a.id, a.username, a.email).where(a.id == account_id)
        return AccountContact(*(await self._session.execute(stmt)).one())

    async def by_username_or_email(self, value: str) -> list[AccountContact]:
        """The account with this username, or the accounts with this email address."""
        a = m.Account
        match = (
            func.lower(a.email) == value.strip().lower()
            if "@" in value
            else a.username == normalize_username(value)
        )
        stmt = select(a.id, a.username, a.email).where(match).order_by(a.username)
        return [AccountContact(*row) for row in (await self._session.execute(stmt)).all()]

    async def username_taken(self, username: str) -> bool:
        stmt = select(m.Account.id).where(m.Account.username == username)
        return (await self._session.execute(stmt)).first() is not None

    async def email_taken(self, email: str, other_than: str | None = None) -> bool:
        a = m.Account
        stmt = select(a.id).where(func.lower(a.email) == email.lower())
        if other_than is not None:
            stmt = stmt.where(a.id != other_than)
        return (await self._session.execute(stmt)).first() is not None

    def create(
        self,
        *,
        username: str,
        email: str,
        display_name: str,
        patient_id: str,
        password_hash: str,
        now: datetime,
    ) -> str:
        account_id = new_id("acc")
        self._session.add(
            m.Account(
                id=account_id,
                username=username,
                email=email,
                display_name=display_name,
                patient_id=patient_id,
                password_hash=password_hash,
                created_at=now,
                last_login_at=now,
                failed_sign_ins=0,
                locked_until=None,
            )
        )
        return account_id

    async def password_hash(self, account_id: str) -> str:
        stmt = select(m.Account.password_hash).where(m.Account.id == account_id)
        return str((await self._session.execute(stmt)).scalar_one())

    async def replace_password(
        self, account_id: str, expected_hash: str, new_hash: str, *, unlock: bool
    ) -> bool:
        """Store `new_hash` if the password is still `expected_hash` (compare-and-set)."""
        a = m.Account
        values: dict[str, Any] = {"password_hash": new_hash}
        if unlock:
            values.update(failed_sign_ins=0, locked_until=None)
        stmt = update(a).where(a.id == account_id, a.password_hash == expected_hash).values(values)
        return await _changed(self._session, stmt) == 1

    async def set_email(self, account_id: str, email: str) -> None:
        await _changed(
            self._session, update(m.Account).where(m.Account.id == account_id).values(email=email)
        )


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def by_hash(self, token_hash: str) -> StoredRefreshToken | None:
        t = m.RefreshToken
        stmt = select(
            t.id, t.family_id, t.account_id, t.expires_at, t.rotated_at, t.revoked_at
        ).where(t.token_hash == token_hash)
        row = (await self._session.execute(stmt)).one_or_none()
        if row is None:
            return None
        token_id, family_id, account_id, expires_at, rotated_at, revoked_at = row
        state = RefreshTokenState(expires_at, rotated_at, revoked_at)
        return StoredRefreshToken(token_id, family_id, account_id, state)

    def add(
        self,
        *,
        account_id: str,
        family_id: str,
        token_hash: str,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        self._session.add(
            m.RefreshToken(
                id=m.new_id("rtk"),
                family_id=family_id,
                account_id=account_id,
                token_hash=token_hash,
                created_at=now,
                expires_at=expires_at,
                rotated_at=None,
                revoked_at=None,
            )
        )

    async def mark_rotated(self, token_id: str, now: datetime) -> bool:
        """Only one caller can rotate a token: False if it was rotated or revoked already."""
        t = m.RefreshToken
        stmt = (
            update(t)
            .where(t.id == token_id, t.rotated_at.is_(None), t.revoked_at.is_(None))
            .values(rotated_at=now)
        )
        return await _changed(self._session, stmt) == 1
