"""signIn, refreshSession, signOut, signOutSession, signOutEverywhere, and the steps other
writes start or check a session with (a new account's first sign-in, single sign-on, a
password re-entered to confirm a change). docs/sessions.md.

The rules (lockout, which refresh token may be used) are in domain/identity.py; the
conditional writes that make concurrent requests safe are in persistence/accounts.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import identity, totp
from domain.access import Principal
from domain.clock import Clock
from domain.identity import InvalidCredentials, InvalidRefreshToken, SessionRevoked
from domain.sessions import EndReason, SessionNotFound, describe_device
from domain.totp import InvalidTotpCode, TotpRequired
from persistence import models as m
from persistence.models import new_id
from persistence.sessions import NewSession
from persistence.terms import pending_for
from persistence.uow import UnitOfWork
from runtime.security import TokenIssuer, hash_refresh_token, new_refresh_token, verify_password

# Compare-and-set attempts on one account's sign-in state before giving up (each failed
# attempt means another request changed it meanwhile; a handful is plenty).
STATE_WRITE_ATTEMPTS = 5

NoteAccount = Callable[[str], None]
"""Names to the audit the account a request concerns where it is not the signed-in one
(the account a username, a refresh token or a reset token matched): the answer must not
differ, so it is told aside, even when the write is then refused."""


@dataclass(frozen=True)
class Issuing:
    """What starting or extending a session takes: the access-token issuer and how long a
    refresh token lives."""

    tokens: TokenIssuer
    refresh_token_ttl: timedelta


@dataclass(frozen=True)
class Client:
    """The device a sign-in comes from, as the request tells it."""

    user_agent: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class IssuedSession:
    account_id: str
    session_id: str
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    refresh_token_expires_at: datetime


@dataclass(frozen=True)
class SignedIn:
    """A new session and who it is for; `terms_to_accept`: current documents the account
    has not accepted (its tokens say so, and the request answers as they do)."""

    session: IssuedSession
    principal: Principal
    actor_name: str
    terms_to_accept: list[m.LegalDocument]


@dataclass(frozen=True)
class SignIn:
    username: str
    password: str
    totp_code: str | None
    client: Client


@dataclass(frozen=True)
class RefreshSession:
    refresh_token: str


@dataclass(frozen=True)
class SignOut:
    refresh_token: str


@dataclass(frozen=True)
class SignOutSession:
    session_id: str


@dataclass(frozen=True)
class SignOutEverywhere:
    keep_session_id: str | None  # the caller's own session, to keep it; None ends it too


# -- the writes ----------------------------------------------------------------------------
async def sign_in(
    command: SignIn,
    uow: UnitOfWork,
    issuing: Issuing,
    lockout: identity.LockoutPolicy,
    now: datetime,
    note: NoteAccount,
) -> SignedIn:
    account_id = await authenticate(
        uow, command.username, command.password, command.totp_code, lockout, now, note
    )
    async with uow:
        return await start_and_commit(uow, issuing, account_id, command.client, now)


async def refresh_session(
    command: RefreshSession, uow: UnitOfWork, issuing: Issuing, now: datetime, note: NoteAccount
) -> IssuedSession:
    """Use a refresh token once: mark it rotated and issue the next one of its family.

    The conditional UPDATE decides between concurrent uses of one token: exactly one wins.
    A loser is treated as re-use, like any later use, and ends the family: we cannot tell a
    client's retry from a thief's replay, and the token must not work twice either way.
    """
    async with uow:
        row = await uow.refresh_tokens.by_hash(hash_refresh_token(command.refresh_token))
        if row is not None:
            note(row.account_id)
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
        if row is None:  # refresh_problem refuses a missing token; for the type checker
            raise InvalidRefreshToken()
        issued = await issue_session(uow, issuing, row.account_id, row.family_id, now)
        await uow.commit()
    return issued


async def sign_out(command: SignOut, uow: UnitOfWork, now: datetime, note: NoteAccount) -> None:
    """Needs no access token: a client whose access token has expired can still sign out."""
    async with uow:
        row = await uow.refresh_tokens.by_hash(hash_refresh_token(command.refresh_token))
        if row is None:
            raise InvalidRefreshToken()
        note(row.account_id)
        await uow.sessions.end(row.family_id, now, EndReason.SIGNED_OUT)
        await uow.commit()


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


# -- the steps ------------------------------------------------------------------------------
async def authenticate(
    uow: UnitOfWork,
    username: str,
    password: str,
    totp_code: str | None,
    lockout: identity.LockoutPolicy,
    now: datetime,
    note: NoteAccount,
) -> str:
    """The account id if the password (and the TOTP code, when the account has two-step
    verification on) is right and the account not locked; records the try (and names the
    account to the audit either way)."""
    async with uow:
        account = await uow.accounts.credentials(identity.normalize_username(username))
        factor = await uow.totp.of(account.account_id) if account is not None else None
    if account is not None:
        note(account.account_id)
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
        decision = await record_attempt(uow, lockout, account.account_id, ok, now)
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
    lockout: identity.LockoutPolicy,
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
            state, password_ok, now, lockout, reveal_lock=not sign_in
        )
        signed_in_at = now if decision.error is None and sign_in else None
        if await uow.accounts.replace_sign_in_state(
            account_id, state, decision.state, signed_in_at
        ):
            return decision
        state = await uow.accounts.sign_in_state(account_id)
    raise RuntimeError("sign-in state kept changing under concurrent attempts")


async def start_and_commit(
    uow: UnitOfWork, issuing: Issuing, account_id: str, client: Client, now: datetime
) -> SignedIn:
    """Inside `async with uow`: start a session of the account (signIn, a new account, single
    sign-on), commit, and say who is signed in."""
    pending = await pending_for(uow.session, account_id)
    issued = start_session(uow, issuing, account_id, client, now, terms_pending=bool(pending))
    principal, name = await uow.accounts.principal(account_id, now)
    await uow.commit()
    if principal is None:  # the account was just read (or made) in this transaction
        raise RuntimeError(f"account {account_id} has no principal")
    return SignedIn(issued, principal, name, pending)


def start_session(
    uow: UnitOfWork,
    issuing: Issuing,
    account_id: str,
    client: Client,
    now: datetime,
    *,
    terms_pending: bool = False,
) -> IssuedSession:
    """A sign-in: a new session on the device the request came from, and its first tokens
    (added, not yet committed). `terms_pending`: the account has current legal documents
    to accept (domain/terms.py), which its access tokens say."""
    new = NewSession(
        account_id=account_id,
        session_id=new_id("ses"),
        device=describe_device(client.user_agent),
        user_agent=client.user_agent,
        client_address=client.address,
    )
    issued = _tokens(uow, issuing, account_id, new.session_id, now, terms_pending)
    uow.sessions.start(new, now, issued.refresh_token_expires_at)
    return issued


async def issue_session(
    uow: UnitOfWork, issuing: Issuing, account_id: str, session_id: str, now: datetime
) -> IssuedSession:
    """A refresh: the next tokens of session `session_id`, which lives on as long as its
    newest refresh token (not yet committed)."""
    pending = bool(await pending_for(uow.session, account_id))
    issued = _tokens(uow, issuing, account_id, session_id, now, pending)
    await uow.sessions.extend(session_id, now, issued.refresh_token_expires_at)
    return issued


def _tokens(
    uow: UnitOfWork,
    issuing: Issuing,
    account_id: str,
    session_id: str,
    now: datetime,
    terms_pending: bool,
) -> IssuedSession:
    """A new access token and a new refresh token of the session (its family)."""
    access_token, access_expires_at = issuing.tokens.issue(
        account_id, now, session_id, terms_pending=terms_pending
    )
    refresh_token, refresh_hash = new_refresh_token()
    refresh_expires_at = now + issuing.refresh_token_ttl
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
