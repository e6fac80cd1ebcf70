"""signIn, refreshSession, signOut: the mutations, then the steps they are made of.

The rules (lockout, which refresh token may be used) are in domain/identity.py; the
conditional writes that make concurrent requests safe are in persistence/accounts.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from domain import identity, totp
from domain.identity import InvalidCredentials, InvalidRefreshToken, SessionRevoked
from domain.sessions import EndReason, describe_device
from domain.totp import InvalidTotpCode, TotpRequired
from persistence.models import new_id
from persistence.sessions import NewSession
from persistence.terms import pending_for
from persistence.uow import UnitOfWork
from resolvers.payloads import account_action, one_per_request, user_errors
from runtime.security import hash_refresh_token, new_refresh_token, verify_password
from schema import auth as s
from schema.legal import LegalDocument
from schema.viewer import Viewer

if TYPE_CHECKING:
    from runtime.context import Context
    from runtime.services import Services
    from schema.base import Info

# Compare-and-set attempts on one account's sign-in state before giving up (each failed
# attempt means another request changed it meanwhile; a handful is plenty).
STATE_WRITE_ATTEMPTS = 5


@dataclass(frozen=True)
class IssuedSession:
    account_id: str
    session_id: str
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    refresh_token_expires_at: datetime


# -- the mutations ------------------------------------------------------------------------
@account_action
@user_errors(s.SignInPayload, s.SignInError, s.SignInErrorCode)
@one_per_request
async def sign_in(info: Info, input: s.SignInInput) -> s.SignInPayload:
    ctx = info.context
    uow = UnitOfWork(ctx.services.sessions)
    account_id = await authenticate(uow, ctx, input.username, input.password, input.totp_code)
    async with uow:
        pending = await pending_for(uow.session, account_id)
        issued = start_session(uow, ctx, account_id, terms_pending=bool(pending))
        principal, name = await uow.accounts.principal(account_id, ctx.now)
        await uow.commit()
    assert principal is not None
    # So `viewer` in this payload answers for the new account and its new session (or,
    # with documents to accept, is refused like every other read until they are).
    ctx.signed_in(principal, name, issued.session_id, terms_pending=bool(pending))
    return s.SignInPayload(
        access_token=issued.access_token,
        access_token_expires_at=issued.access_token_expires_at,
        refresh_token=issued.refresh_token,
        refresh_token_expires_at=issued.refresh_token_expires_at,
        viewer=Viewer(account_id=account_id),
        legal_documents_to_accept=[LegalDocument.from_row(d, None) for d in pending],
    )


@account_action
@user_errors(s.RefreshSessionPayload, s.SessionError, s.SessionErrorCode)
async def refresh_session(info: Info, input: s.RefreshSessionInput) -> s.RefreshSessionPayload:
    ctx = info.context
    uow = UnitOfWork(ctx.services.sessions)
    issued = await rotate(uow, ctx, input.refresh_token)
    return s.RefreshSessionPayload(
        access_token=issued.access_token,
        access_token_expires_at=issued.access_token_expires_at,
        refresh_token=issued.refresh_token,
        refresh_token_expires_at=issued.refresh_token_expires_at,
    )


@account_action
@user_errors(s.SignOutPayload, s.SessionError, s.SessionErrorCode)
async def sign_out(info: Info, input: s.SignOutInput) -> s.SignOutPayload:
    """Needs no access token: a client whose access token has expired can still sign out."""
    uow = UnitOfWork(info.context.services.sessions)
    async with uow:
        row = await uow.refresh_tokens.by_hash(hash_refresh_token(input.refresh_token))
        if row is None:
            raise InvalidRefreshToken()
        info.context.audit_account(row.account_id)
        await uow.sessions.end(row.family_id, info.context.now, EndReason.SIGNED_OUT)
        await uow.commit()
    return s.SignOutPayload(ok=True)


# -- the steps ------------------------------------------------------------------------------
async def authenticate(
    uow: UnitOfWork, ctx: Context, username: str, password: str, totp_code: str | None = None
) -> str:
    """The account id if the password (and the TOTP code, when the account has two-step
    verification on) is right and the account not locked; records the try (and names the
    account to the audit either way)."""
    services, now = ctx.services, ctx.now
    async with uow:
        account = await uow.accounts.credentials(identity.normalize_username(username))
        factor = await uow.totp.of(account.account_id) if account is not None else None
    if account is not None:
        ctx.audit_account(account.account_id)
    # Argon2 runs for unknown usernames too (against a dummy hash): the time does not tell.
    # It runs in a thread, with no transaction open, so it blocks neither loop nor database.
    password_hash = account.password_hash if account is not None else None
    password_ok = await asyncio.to_thread(verify_password, password_hash, password)
    if account is None:
        raise InvalidCredentials()
    second_factor = factor is not None and factor.confirmed and password_ok
    # While locked, asking for the code would tell that the password was right.
    if second_factor and not totp_code and not identity.is_locked(account.state, now):
        raise TotpRequired()  # the normal first step of a two-step sign-in: not a failure
    async with uow:
        factor_ok = not second_factor or await use_totp_code(
            uow, account.account_id, totp_code or "", now
        )
        ok = password_ok and factor_ok
        decision = await record_attempt(uow, services, account.account_id, ok, now)
        await uow.commit()
    if decision.locked:
        raise InvalidCredentials()  # the same for every password and code while locked
    if isinstance(decision.error, InvalidCredentials) and password_ok:
        raise InvalidTotpCode()  # counted like a wrong password
    if decision.error is not None:
        raise decision.error
    return account.account_id


async def use_totp_code(uow: UnitOfWork, account_id: str, code: str, now: datetime) -> bool:
    """Whether `code` is a valid, unused code of the account's confirmed factor; uses it."""
    factor = await uow.totp.of(account_id)
    if factor is None or not factor.confirmed:
        return False
    step = totp.matching_step(factor.secret, code, now, factor.last_used_step)
    return step is not None and await uow.totp.use_step(
        account_id, step, factor.last_used_step, None
    )


async def record_attempt(
    uow: UnitOfWork,
    services: Services,
    account_id: str,
    password_ok: bool,
    now: datetime,
    sign_in: bool = True,
) -> identity.SignInDecision:
    """Decide on the current state and store the result, re-deciding if it changed meanwhile
    (concurrent attempts must each count: a lost update would give an attacker free guesses).

    `sign_in=False`: a password re-entered to confirm an account change counts towards the
    lockout the same way, but is not a sign-in (`lastSignInAt` stays)."""
    state = await uow.accounts.sign_in_state(account_id)
    for _ in range(STATE_WRITE_ATTEMPTS):
        # A signed-in account re-entering its password knows the account exists: it may be
        # told of the lock. A sign-in may not (the username might not exist).
        decision = identity.decide_sign_in(
            state, password_ok, now, services.settings.lockout, reveal_lock=not sign_in
        )
        signed_in_at = now if decision.error is None and sign_in else None
        if await uow.accounts.replace_sign_in_state(
            account_id, state, decision.state, signed_in_at
        ):
            return decision
        state = await uow.accounts.sign_in_state(account_id)
    raise RuntimeError("sign-in state kept changing under concurrent attempts")


async def rotate(uow: UnitOfWork, ctx: Context, token: str) -> IssuedSession:
    """Use a refresh token once: mark it rotated and issue the next one of its family.

    The conditional UPDATE decides between concurrent uses of one token: exactly one wins.
    A loser is treated as re-use, like any later use, and ends the family: we cannot tell a
    client's retry from a thief's replay, and the token must not work twice either way.
    """
    services, now = ctx.services, ctx.now
    async with uow:
        row = await uow.refresh_tokens.by_hash(hash_refresh_token(token))
        if row is not None:
            ctx.audit_account(row.account_id)
        problem = identity.refresh_problem(row.state if row else None, now)
        if row is not None and problem is None:
            rotated = await uow.refresh_tokens.mark_rotated(row.id, now)
            problem = None if rotated else SessionRevoked()  # another request used it first
        if row is not None and isinstance(problem, SessionRevoked):
            # A used token came back (a retry or a thief): the whole session ends.
            await uow.sessions.end(row.family_id, now, EndReason.REFRESH_REUSED)
            await uow.commit()
        if problem is not None:
            raise problem
        assert row is not None
        issued = await issue_session(uow, services, row.account_id, row.family_id, now)
        await uow.commit()
    return issued


def start_session(
    uow: UnitOfWork, ctx: Context, account_id: str, *, terms_pending: bool = False
) -> IssuedSession:
    """A sign-in: a new session on the device the request came from, and its first tokens
    (added, not yet committed). `terms_pending`: the account has current legal documents
    to accept (domain/terms.py), which its access tokens say."""
    request = ctx.request
    user_agent = request.headers.get("user-agent") if request is not None else None
    new = NewSession(
        account_id=account_id,
        session_id=new_id("ses"),
        device=describe_device(user_agent),
        user_agent=user_agent,
        client_address=request.client.host if request is not None and request.client else None,
    )
    issued = _tokens(uow, ctx.services, account_id, new.session_id, ctx.now, terms_pending)
    uow.sessions.start(new, ctx.now, issued.refresh_token_expires_at)
    return issued


async def issue_session(
    uow: UnitOfWork, services: Services, account_id: str, session_id: str, now: datetime
) -> IssuedSession:
    """A refresh: the next tokens of session `session_id`, which lives on as long as its
    newest refresh token (not yet committed)."""
    pending = bool(await pending_for(uow.session, account_id))
    issued = _tokens(uow, services, account_id, session_id, now, pending)
    await uow.sessions.extend(session_id, now, issued.refresh_token_expires_at)
    return issued


def _tokens(
    uow: UnitOfWork,
    services: Services,
    account_id: str,
    session_id: str,
    now: datetime,
    terms_pending: bool,
) -> IssuedSession:
    """A new access token and a new refresh token of the session (its family)."""
    access_token, access_expires_at = services.tokens.issue(
        account_id, now, session_id, terms_pending=terms_pending
    )
    refresh_token, refresh_hash = new_refresh_token()
    refresh_expires_at = now + services.settings.refresh_token_ttl
    uow.refresh_tokens.add(
        account_id=account_id,
        family_id=session_id,
        token_hash=refresh_hash,
        now=now,
        expires_at=refresh_expires_at,
    )
    return IssuedSession(
        account_id, session_id, access_token, access_expires_at, refresh_token, refresh_expires_at
    )
