"""The account lifecycle's pure rules as tables: codes, usernames, passwords, contact shapes,
TOTP steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain import accounts, contact, totp
from domain.errors import DomainError

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
POLICY = accounts.LifecyclePolicy()


def test_activation_codes_are_readable_and_normalized() -> None:
    code = accounts.new_activation_code()
    assert len(code) == 14
    assert code.count("-") == 2
    assert not set(code.replace("-", "")) & set("01ILOU")
    assert accounts.normalize_code(f" {code.lower().replace('-', ' ')} ") == code.replace("-", "")


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (accounts.CodeState(NOW + timedelta(seconds=1), None, 0), None),
        (accounts.CodeState(NOW, None, 0), "CODE_EXPIRED"),
        (accounts.CodeState(NOW + timedelta(days=1), NOW, 0), "CODE_USED"),
        (accounts.CodeState(NOW + timedelta(days=1), None, 4), None),
        (accounts.CodeState(NOW + timedelta(days=1), None, 5), "TOO_MANY_ATTEMPTS"),
        # A dead code says so first, whatever else is true of it.
        (accounts.CodeState(NOW - timedelta(days=1), NOW, 5), "TOO_MANY_ATTEMPTS"),
    ],
)
def test_code_problems(state: accounts.CodeState, expected: str | None) -> None:
    problem = accounts.code_problem(state, NOW, POLICY)
    assert (problem.code if problem else None) == expected


@pytest.mark.parametrize(
    ("username", "ok"),
    [
        ("  Alex.Rivera ", True),
        ("a_b-c.d", True),
        ("ab", False),
        ("-alex", False),
        ("alex rivera", False),
        ("alex@example.org", False),
        ("x" * 64, True),
        ("x" * 65, False),
    ],
)
def test_usernames(username: str, ok: bool) -> None:
    if ok:
        assert accounts.check_username(username) == username.strip().lower()
    else:
        with pytest.raises(accounts.InvalidUsername):
            accounts.check_username(username)


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("correct-horse-battery", True),
        ("elevenchars", False),
        ("Password1234", False),  # common
        ("my-name-is-alex.rivera", False),  # contains the username
    ],
)
def test_new_passwords(password: str, ok: bool) -> None:
    if ok:
        accounts.check_new_password(password, "alex.rivera")
    else:
        with pytest.raises(accounts.WeakPassword):
            accounts.check_new_password(password, "alex.rivera")


@pytest.mark.parametrize(
    ("sent", "may"), [(0, True), (POLICY.mails_per_hour - 1, True), (POLICY.mails_per_hour, False)]
)
def test_mail_cap(sent: int, may: bool) -> None:
    assert accounts.may_send_another(sent, POLICY) is may


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(617) 555-0199", "617-555-0199"),
        ("617.555.0199", "617-555-0199"),
        ("1 617 555 0199", "617-555-0199"),
        ("+1 617 555 0199", "617-555-0199"),
        ("+44 20 7946 0958", "+442079460958"),
        ("555-0199", None),
        ("017-555-0199", None),
        ("617-155-0199", None),
        ("+0 123 4567", None),
        ("phone", None),
        ("+12", None),
    ],
)
def test_phone_numbers(raw: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(contact.InvalidPhone):
            contact.phone_number(raw)
    else:
        assert contact.phone_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Name@Example.ORG ", "Name@example.org"),
        ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
        ("no-at-sign.example.org", None),
        ("two@@example.org", None),
        ("name@localhost", None),
        ("name@-example.org", None),
        ("with space@example.org", None),
        ("x" * 250 + "@example.org", None),
    ],
)
def test_email_addresses(raw: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(contact.InvalidEmail):
            contact.email_address(raw)
    else:
        assert contact.email_address(raw) == expected


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, None),
        ({"state": "Mass"}, "address.state"),
        ({"postal_code": "0213"}, "address.postalCode"),
        ({"postal_code": "02139-12"}, "address.postalCode"),
        ({"line1": ""}, "address.line1"),
        ({"city": "x" * 61}, "address.city"),
        ({"line2": "Apt\x004"}, "address.line2"),
    ],
)
def test_postal_addresses(fields: dict[str, str], field: str | None) -> None:
    base = {
        "line1": "1 Main St",
        "line2": None,
        "city": "Boston",
        "state": "ma",
        "postal_code": "02110-1234",
    }
    values = {**base, **fields}
    if field is None:
        address = contact.postal_address(**values)  # type: ignore[arg-type]
        assert address.state == "MA"
        assert address.as_json()["postal_code"] == "02110-1234"
    else:
        with pytest.raises(contact.InvalidAddress) as raised:
            contact.postal_address(**values)  # type: ignore[arg-type]
        assert raised.value.field == field


def test_totp_steps_drift_and_replay() -> None:
    secret = totp.new_secret()
    step = int(NOW.timestamp()) // 30
    now_code = totp.code_at(secret, NOW)
    assert totp.matching_step(secret, now_code, NOW, None) == step
    assert totp.matching_step(secret, now_code, NOW, step) is None  # used
    behind = totp.code_at(secret, NOW - timedelta(seconds=30))
    ahead = totp.code_at(secret, NOW + timedelta(seconds=30))
    assert totp.matching_step(secret, behind, NOW, None) == step - 1
    assert totp.matching_step(secret, ahead, NOW, None) == step + 1
    far = totp.code_at(secret, NOW + timedelta(seconds=90))
    if far not in (now_code, behind, ahead):
        assert totp.matching_step(secret, far, NOW, None) is None
    for junk in ("", "12345", "1234567", "abcdef"):
        assert totp.matching_step(secret, junk, NOW, None) is None
    assert totp.matching_step(secret, f" {now_code[:3]} {now_code[3:]} ", NOW, None) == step


def test_every_lifecycle_error_has_a_code() -> None:
    for module in (accounts, contact, totp):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, DomainError)
                and value is not DomainError
            ):
                assert value.code.isupper()
