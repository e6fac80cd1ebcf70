"""Sign-in rules (domain/identity.py) as tables of cases: lockout and refresh-token use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.identity import (
    AccountLocked,
    InvalidCredentials,
    InvalidRefreshToken,
    LockoutPolicy,
    PasswordRejected,
    RefreshTokenState,
    SessionExpired,
    SessionRevoked,
    SignInState,
    after_failure,
    check_password_policy,
    decide_sign_in,
    normalize_username,
    refresh_problem,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
# Not the default, to show the policy is what decides: 3 failures lock for 10 minutes.
POLICY = LockoutPolicy(max_failures=3, lock_for=10 * MIN)

UNLOCKED = None
LOCKED = NOW + 5 * MIN
LOCK_RAN_OUT = NOW - MIN

SIGN_IN_CASES = [
    # failures, locked_until, password right?  -> failures, locked_until, error
    (0, UNLOCKED, True, 0, UNLOCKED, None),
    (2, UNLOCKED, True, 0, UNLOCKED, None),
    (0, UNLOCKED, False, 1, UNLOCKED, InvalidCredentials),
    (1, UNLOCKED, False, 2, UNLOCKED, InvalidCredentials),
    # The failure that locks answers like any other wrong password.
    (2, UNLOCKED, False, 0, NOW + 10 * MIN, InvalidCredentials),
    # While locked nothing changes, and every password gets the same answer.
    (0, LOCKED, True, 0, LOCKED, InvalidCredentials),
    (0, LOCKED, False, 0, LOCKED, InvalidCredentials),
    # A lock that has run out: the right password gets in, a wrong one starts a new count.
    (0, LOCK_RAN_OUT, True, 0, UNLOCKED, None),
    (0, LOCK_RAN_OUT, False, 1, UNLOCKED, InvalidCredentials),
]


@pytest.mark.parametrize(
    ("failures", "locked_until", "password_ok", "new_failures", "new_locked_until", "error"),
    SIGN_IN_CASES,
)
def test_decide_sign_in(
    failures: int,
    locked_until: datetime | None,
    password_ok: bool,
    new_failures: int,
    new_locked_until: datetime | None,
    error: type[Exception] | None,
) -> None:
    decision = decide_sign_in(SignInState(failures, locked_until), password_ok, NOW, POLICY)
    assert decision.state == SignInState(new_failures, new_locked_until)
    assert type(decision.error) is (error or type(None))


@pytest.mark.parametrize("reveal_lock", [False, True])
def test_while_locked_the_answer_does_not_depend_on_the_password(reveal_lock: bool) -> None:
    locked = SignInState(0, LOCKED)
    right, wrong = (
        decide_sign_in(locked, ok, NOW, POLICY, reveal_lock=reveal_lock) for ok in (True, False)
    )
    assert right.locked
    assert wrong.locked
    assert right.state == wrong.state == locked
    assert type(right.error) is type(wrong.error)
    assert type(right.error) is (AccountLocked if reveal_lock else InvalidCredentials)
    assert right.error is not None
    assert wrong.error is not None
    assert right.error.message == wrong.error.message


def test_a_wrong_password_while_locked_does_not_lift_the_lock() -> None:
    locked = SignInState(0, LOCKED)
    assert after_failure(locked, NOW, POLICY) == locked


def test_the_lock_message_says_how_long() -> None:
    assert "5 minutes" in AccountLocked(NOW + 4 * MIN + timedelta(seconds=1), NOW).message
    assert "1 minute," in AccountLocked(NOW + timedelta(seconds=5), NOW).message


EXPIRES = NOW + MIN
REFRESH_CASES = [
    (None, InvalidRefreshToken),
    (RefreshTokenState(EXPIRES, None, None), None),
    (RefreshTokenState(NOW, None, None), SessionExpired),
    (RefreshTokenState(EXPIRES, NOW - MIN, None), SessionRevoked),
    (RefreshTokenState(EXPIRES, None, NOW - MIN), SessionRevoked),
    # Re-use is told before expiry: an old stolen token still ends its family.
    (RefreshTokenState(NOW - MIN, NOW - 2 * MIN, None), SessionRevoked),
]


@pytest.mark.parametrize(("token", "problem"), REFRESH_CASES)
def test_refresh_problem(token: RefreshTokenState | None, problem: type[Exception] | None) -> None:
    assert type(refresh_problem(token, NOW)) is (problem or type(None))


@pytest.mark.parametrize(
    ("password", "accepted"),
    [("short-pw", False), ("Password1234", False), ("a long enough passphrase", True)],
)
def test_password_policy(password: str, accepted: bool) -> None:
    if accepted:
        check_password_policy(password)
    else:
        with pytest.raises(PasswordRejected):
            check_password_policy(password)


def test_usernames_are_compared_lower_case_and_trimmed() -> None:
    assert normalize_username("  Alex.Rivera\t") == "alex.rivera"
