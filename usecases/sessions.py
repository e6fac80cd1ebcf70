"""Ending sessions from the list of them (docs/sessions.md). Signing out with a refresh
token, refresh-token re-use and password changes end sessions in resolvers/auth.py and
resolvers/passwords.py, through the same repository."""

from __future__ import annotations

from dataclasses import dataclass

from domain.access import Principal
from domain.clock import Clock
from domain.sessions import EndReason, SessionNotFound
from persistence.uow import UnitOfWork


@dataclass(frozen=True)
class SignOutSession:
    session_id: str


@dataclass(frozen=True)
class SignOutEverywhere:
    keep_session_id: str | None  # the caller's own session, to keep it; None ends it too


async def sign_out_session(
    command: SignOutSession, principal: Principal, uow: UnitOfWork, clock: Clock
) -> None:
    """End one session of the principal's account (this one or another device's). Another
    account's session, an unknown one and an ended one answer alike: SESSION_NOT_FOUND."""
    async with uow:
        ended = await uow.sessions.end(
            command.session_id, clock.now(), EndReason.SIGNED_OUT_HERE, principal.account_id
        )
        if not ended:
            raise SessionNotFound(field="id")
        await uow.commit()


async def sign_out_everywhere(
    command: SignOutEverywhere, principal: Principal, uow: UnitOfWork, clock: Clock
) -> int:
    """End every session of the principal's account (but the one kept); how many ended."""
    async with uow:
        ended = await uow.sessions.end_all(
            principal.account_id,
            clock.now(),
            EndReason.SIGNED_OUT_EVERYWHERE,
            command.keep_session_id,
        )
        await uow.commit()
    return ended
