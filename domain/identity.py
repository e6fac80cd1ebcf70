"""Sign-in rules: password policy and lockout. Hashing and tokens live in portal.security."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import DomainError

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
    default_message = "The username or password is not correct."


class AccountLocked(DomainError):
    code = "ACCOUNT_LOCKED"

    def __init__(self, locked_until: datetime, now: datetime) -> None:
        minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
        super().__init__(
            "Too many failed sign-ins: your account is locked. Try again in "
            f"{minutes} minute{'s' if minutes != 1 else ''}, or reset your password."
        )
        self.locked_until = locked_until


@dataclass(frozen=True)
class SignInDecision:
    state: SignInState  # to store, whatever the outcome
    error: DomainError | None  # None: signed in


def decide_sign_in(
    state: SignInState, password_ok: bool, now: datetime, policy: LockoutPolicy
) -> SignInDecision:
    """The outcome of one sign-in attempt on an existing account.

    What a locked account answers must not tell whether a username exists, and an unknown
    username never locks. So a wrong password gets INVALID_CREDENTIALS in every case: before
    the lock, on the failure that sets it, and while it holds. ACCOUNT_LOCKED is answered
    only when the password is right but the account is locked: that tells the caller the
    account exists, but they have just proved they know its password, and it tells the real
    owner why they cannot get in and when to try again.
    """
    if is_locked(state, now):
        assert state.locked_until is not None
        error = AccountLocked(state.locked_until, now) if password_ok else InvalidCredentials()
        return SignInDecision(state, error)
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
