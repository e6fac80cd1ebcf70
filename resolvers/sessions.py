"""signIn, refreshSession, signOut, signOutSession, signOutEverywhere and `viewer.sessions`
(the writes: usecases/sessions.py; docs/sessions.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from persistence.uow import UnitOfWork
from usecases import sessions as uc

if TYPE_CHECKING:
    from persistence import models as m
    from runtime.context import Context


def issuing(ctx: Context) -> uc.Issuing:
    """The ports a write that starts or extends a session needs."""
    return uc.Issuing(ctx.services.tokens, ctx.services.settings.refresh_token_ttl)


def client(ctx: Context) -> uc.Client:
    """The device the request comes from, for a session it starts."""
    request = ctx.request
    if request is None:
        return uc.Client()
    address = request.client.host if request.client else None
    return uc.Client(request.headers.get("user-agent"), address)


def now_signed_in(ctx: Context, done: uc.SignedIn) -> uc.SignedIn:
    """The rest of this response (its `viewer`) answers for the account just signed in (or,
    with documents to accept, is refused like every other read until they are)."""
    pending = bool(done.terms_to_accept)
    ctx.signed_in(done.principal, done.actor_name, done.session.session_id, pending)
    return done


async def sign_in(ctx: Context, command: uc.SignIn) -> uc.SignedIn:
    lockout = ctx.services.settings.lockout
    uow = UnitOfWork(ctx.services.sessions)
    done = await uc.sign_in(command, uow, issuing(ctx), lockout, ctx.now, ctx.audit_account)
    return now_signed_in(ctx, done)


async def refresh_session(ctx: Context, command: uc.RefreshSession) -> uc.IssuedSession:
    uow = UnitOfWork(ctx.services.sessions)
    return await uc.refresh_session(command, uow, issuing(ctx), ctx.now, ctx.audit_account)


async def sign_out(ctx: Context, command: uc.SignOut) -> None:
    await uc.sign_out(command, UnitOfWork(ctx.services.sessions), ctx.now, ctx.audit_account)


async def sign_out_session(ctx: Context, command: uc.SignOutSession) -> None:
    principal = ctx.require_principal()
    uow = UnitOfWork(ctx.services.sessions)
    await uc.sign_out_session(command, principal, uow, ctx.services.clock)


async def sign_out_everywhere(ctx: Context, keep_current: bool) -> int:
    principal = ctx.require_principal()
    command = uc.SignOutEverywhere(ctx.session_id if keep_current else None)
    uow = UnitOfWork(ctx.services.sessions)
    return await uc.sign_out_everywhere(command, principal, uow, ctx.services.clock)


async def sessions(ctx: Context) -> list[m.AccountSession]:
    """The signed-in account's own open sessions, whatever `Viewer` they are asked through
    (`AccountSession.current`: the one whose id is `ctx.session_id`)."""
    account_id = ctx.require_principal().account_id
    rows = await ctx.loaders.sessions.get(account_id) or []
    return [row for row in rows if row.expires_at > ctx.now]
