"""Sign-in rules: password policy and lockout. Hashing and tokens live in runtime.security."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import BrokenInvariant, DomainError

MIN_PASSWORD_LENGTH = 12

# A small list of passwords that pass the length rule but are guessed first.
COMMON_PASSWORDS = frozenset(
    {
        "password1234",
        "password12345",
        "123456789012",
        "qwertyuiop12",
        "letmein12345",
        "iloveyou1234",
        "welcome12345",
        "administrator",
        "passwordpassword",
        "changeme1234",
        "111111111111",
        "abc123abc123",
    }
)


class PasswordRejected(ValueError):
    pass


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if password.lower() in COMMON_PASSWORDS:
        raise PasswordRejected("This password is too common; choose another.")


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class SignInState:
    failed_attempts: int
    locked_until: datetime | None


def is_locked(state: SignInState, now: datetime) -> bool:
    return state.locked_until is not None and state.locked_until > now


def after_failure(state: SignInState, now: datetime, policy: LockoutPolicy) -> SignInState:
    # Failures while locked neither count nor extend the lock (nor, worse, lift it).
    if is_locked(state, now):
        return state
    # A lock that has run out starts a fresh count.
    failures = (
        1
        if state.locked_until is not None and state.locked_until <= now
        else (state.failed_attempts + 1)
    )
    if failures >= policy.max_failures:
        return SignInState(0, now + policy.lock_for)
    return SignInState(failures, None)


def after_success() -> SignInState:
    return SignInState(0, None)


def normalize_username(username: str) -> str:
    """Usernames are stored lower-case; sign-up must store them through this too."""
    return username.strip().lower()


# -- sign-in ----------------------------------------------------------------------------
class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"
    # One message for every refused sign-in (wrong password, unknown username, locked
    # account), so it cannot tell them apart; it tells the owner of a locked account what to do.
    default_message = (
        "The username or password is not correct. After repeated failed sign-ins an account "
        "is locked for a while; reset your password to unlock it at once."
    )


class AccountLocked(DomainError):
    code = "ACCOUNT_LOCKED"

    def __init__(self, locked_until: datetime, now: datetime) -> None:
        minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
        super().__init__(
            "Too many failed sign-ins: your account is locked. Try again in "
            f"{minutes} minute{'s' if minutes != 1 else ''}, or reset your password."
        )
        self.locked_until = locked_until


class OneCredentialPerRequest(DomainError):
    """A request may check one password or code: with ten aliased `signIn`s (or a batch of
    them) an attacker would get ten guesses for the price of one request."""

    code = "ONE_CREDENTIAL_PER_REQUEST"
    default_message = (
        "Only one password or code is checked per request, and this request already had one; "
        "this was not processed. Send it in a request of its own."
    )


@dataclass(frozen=True)
class SignInDecision:
    state: SignInState  # to store, whatever the outcome
    error: DomainError | None  # None: signed in
    locked: bool = False  # the account was locked: `error` says nothing of the password


def decide_sign_in(
    state: SignInState,
    password_ok: bool,
    now: datetime,
    policy: LockoutPolicy,
    reveal_lock: bool = False,
) -> SignInDecision:
    """The outcome of one attempt to prove an account's password (or code).

    While the account is locked every attempt gets the same answer whatever the password: an
    answer that differed for the right one would let an attacker keep guessing through the
    lock and learn when they guessed right. Which answer depends on who asks:

    - a sign-in (`reveal_lock=False`): INVALID_CREDENTIALS, as for a wrong password or an
      unknown username, whose message says that repeated failures lock an account; so the
      answer never tells whether a username exists (an unknown one never locks).
    - a signed-in account re-entering its password or code (`reveal_lock=True`): it knows the
      account exists, so ACCOUNT_LOCKED with the time left.

    Before the lock a wrong password is INVALID_CREDENTIALS, the failure that sets it too.
    """
    if is_locked(state, now):
        if state.locked_until is None:
            raise BrokenInvariant("state.locked_until is None")
        error = AccountLocked(state.locked_until, now) if reveal_lock else InvalidCredentials()
        return SignInDecision(state, error, locked=True)
    if password_ok:
        return SignInDecision(after_success(), None)
    return SignInDecision(after_failure(state, now, policy), InvalidCredentials())


# -- refresh tokens ---------------------------------------------------------------------
class InvalidRefreshToken(DomainError):
    code = "INVALID_REFRESH_TOKEN"
    default_message = "This session is not known; sign in again."


class SessionRevoked(DomainError):
    code = "SESSION_REVOKED"
    default_message = "This session has ended; sign in again."


class SessionExpired(DomainError):
    code = "SESSION_EXPIRED"
    default_message = "This session has expired; sign in again."


@dataclass(frozen=True)
class RefreshTokenState:
    expires_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


def refresh_problem(token: RefreshTokenState | None, now: datetime) -> DomainError | None:
    """Why a presented refresh token may not be used, or None if it may (once).

    SessionRevoked means more than "no": a token that was already rotated or revoked is being
    used again, so it may have been stolen, and the caller must revoke its whole family.
    Re-use is checked before expiry so that an old stolen token still ends the family.
    """
    if token is None:
        return InvalidRefreshToken()
    if token.rotated_at is not None or token.revoked_at is not None:
        return SessionRevoked()
    if token.expires_at <= now:
        return SessionExpired()
    return None
