"""Sign-in rules: password policy and lockout. Hashing and tokens live in portal.security."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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
