"""Two-step verification: enable (pending) -> confirm -> signIn needs the code -> disable.
The test plays the authenticator app with the secret and the injectable clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from domain.totp import code_at
from persistence import models as m
from tests.api.account_helpers import codes, count, sign_in
from tests.conftest import ALEX, DEMO_PASSWORD, Portal

ENABLE = """
mutation E($input: EnableTotpInput!) {
  enableTotp(input: $input) { secret otpauthUri errors { code message field } }
}
"""
CONFIRM = """
mutation C($input: ConfirmTotpInput!) {
  confirmTotp(input: $input) { totpEnabled errors { code message field } }
}
"""
DISABLE = """
mutation D($input: DisableTotpInput!) {
  disableTotp(input: $input) { totpEnabled errors { code message field } }
}
"""
WRONG = "not-the-password-2026"


async def _call(portal: Portal, query: str, field: str, **fields: Any) -> dict[str, Any]:
    result = await portal.gql(query, {"input": fields}, as_user=ALEX)
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"][field]
    return payload


async def enable(portal: Portal, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    return await _call(portal, ENABLE, "enableTotp", currentPassword=password)


async def confirm(portal: Portal, code: str) -> dict[str, Any]:
    return await _call(portal, CONFIRM, "confirmTotp", code=code)


async def turned_on(portal: Portal) -> str:
    """Turn TOTP on for Alex; the secret. The clock moves past the confirming code's step."""
    secret = str((await enable(portal))["secret"])
    assert (await confirm(portal, code_at(secret, portal.clock.now())))["totpEnabled"] is True
    portal.clock.advance(timedelta(seconds=30))
    return secret


def _next_step(portal: Portal) -> None:
    portal.clock.advance(timedelta(seconds=30))


async def test_enable_gives_a_secret_and_an_otpauth_uri(fresh_portal: Portal) -> None:
    payload = await enable(fresh_portal)
    uri = urlparse(payload["otpauthUri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert ALEX in uri.path
    assert parse_qs(uri.query)["secret"] == [payload["secret"]]
    # Pending: sign-in is unchanged until confirmed.
    assert (await sign_in(fresh_portal, ALEX, DEMO_PASSWORD))["errors"] == []


async def test_once_confirmed_sign_in_needs_the_code(fresh_portal: Portal) -> None:
    secret = await turned_on(fresh_portal)
    missing = await sign_in(fresh_portal, ALEX, DEMO_PASSWORD)
    assert codes(missing) == ["TOTP_REQUIRED"]
    assert missing["accessToken"] is None
    wrong = await sign_in(fresh_portal, ALEX, DEMO_PASSWORD, totpCode="000000")
    assert codes(wrong) == ["INVALID_TOTP_CODE"]
    good = code_at(secret, fresh_portal.clock.now())
    assert (await sign_in(fresh_portal, ALEX, DEMO_PASSWORD, totpCode=good))["errors"] == []
    # A wrong password with a right code is still just INVALID_CREDENTIALS.
    _next_step(fresh_portal)
    other = code_at(secret, fresh_portal.clock.now())
    assert codes(await sign_in(fresh_portal, ALEX, WRONG, totpCode=other)) == [
        "INVALID_CREDENTIALS"
    ]


async def test_a_code_works_once_and_from_the_neighbouring_steps(fresh_portal: Portal) -> None:
    secret = await turned_on(fresh_portal)
    code = code_at(secret, fresh_portal.clock.now())
    assert (await sign_in(fresh_portal, ALEX, DEMO_PASSWORD, totpCode=code))["errors"] == []
    replay = await sign_in(fresh_portal, ALEX, DEMO_PASSWORD, totpCode=code)
    assert codes(replay) == ["INVALID_TOTP_CODE"]
    # The next step's code, shown by a phone whose clock runs 30 s fast, is accepted...
    ahead = code_at(secret, fresh_portal.clock.now() + timedelta(seconds=30))
    assert (await sign_in(fresh_portal, ALEX, DEMO_PASSWORD, totpCode=ahead))["errors"] == []
    # ...and then no older code is, even one still within its window.
    too_old = code_at(secret, fresh_portal.clock.now() - timedelta(seconds=30))
    assert codes(await sign_in(fresh_portal, ALEX, DEMO_PASSWORD, totpCode=too_old)) == [
        "INVALID_TOTP_CODE"
    ]


async def test_wrong_codes_count_towards_the_lockout(fresh_portal: Portal) -> None:
    secret = await turned_on(fresh_portal)
    for _ in range(5):
        wrong = await sign_in(fresh_portal, ALEX, DEMO_PASSWORD, totpCode="123456")
        assert codes(wrong) == ["INVALID_TOTP_CODE"]
    good = code_at(secret, fresh_portal.clock.now())
    # Locked: the right password and code, the right password alone (no TOTP_REQUIRED) and a
    # wrong one all get what an unknown username gets.
    unknown = await sign_in(fresh_portal, "nobody.here", DEMO_PASSWORD)
    assert codes(unknown) == ["INVALID_CREDENTIALS"]
    for attempt in (
        await sign_in(fresh_portal, ALEX, DEMO_PASSWORD, totpCode=good),
        await sign_in(fresh_portal, ALEX, DEMO_PASSWORD),
        await sign_in(fresh_portal, ALEX, DEMO_PASSWORD, totpCode="123456"),
        await sign_in(fresh_portal, ALEX, "not-the-password-at-all"),
    ):
        assert attempt == unknown


async def test_concurrent_sign_ins_with_one_code_succeed_once(fresh_portal: Portal) -> None:
    if fresh_portal.services.engine.dialect.name == "sqlite":
        pytest.skip("concurrency proof: PostgreSQL only (SQLite serializes writers)")
    secret = await turned_on(fresh_portal)
    code = code_at(secret, fresh_portal.clock.now())
    results = await asyncio.gather(
        *(sign_in(fresh_portal, ALEX, DEMO_PASSWORD, totpCode=code) for _ in range(5))
    )
    assert sum(1 for r in results if r["errors"] == []) == 1


async def test_confirm_refusals_change_nothing(fresh_portal: Portal) -> None:
    assert codes(await confirm(fresh_portal, "123456")) == ["TOTP_NOT_PENDING"]
    secret = str((await enable(fresh_portal))["secret"])
    assert codes(await confirm(fresh_portal, "123456")) == ["INVALID_TOTP_CODE"]
    assert codes(await confirm(fresh_portal, "abc")) == ["INVALID_TOTP_CODE"]
    stale = code_at(secret, fresh_portal.clock.now() - timedelta(minutes=5))
    assert codes(await confirm(fresh_portal, stale)) == ["INVALID_TOTP_CODE"]
    assert (await count(fresh_portal, m.TotpFactor, m.TotpFactor.confirmed_at.is_not(None))) == 0
    assert (await sign_in(fresh_portal, ALEX, DEMO_PASSWORD))["errors"] == []


async def test_enable_refusals(fresh_portal: Portal) -> None:
    wrong = await enable(fresh_portal, WRONG)
    assert codes(wrong) == ["INVALID_CREDENTIALS"]
    assert wrong["secret"] is None
    assert await count(fresh_portal, m.TotpFactor) == 0
    await turned_on(fresh_portal)
    assert codes(await enable(fresh_portal)) == ["TOTP_ALREADY_ENABLED"]
    assert (await count(fresh_portal, m.TotpFactor, m.TotpFactor.confirmed_at.is_not(None))) == 1


async def test_a_new_enable_replaces_a_pending_secret(fresh_portal: Portal) -> None:
    first = str((await enable(fresh_portal))["secret"])
    second = str((await enable(fresh_portal))["secret"])
    assert first != second
    old = code_at(first, fresh_portal.clock.now())
    if old != code_at(second, fresh_portal.clock.now()):
        assert codes(await confirm(fresh_portal, old)) == ["INVALID_TOTP_CODE"]
    assert (await confirm(fresh_portal, code_at(second, fresh_portal.clock.now())))["totpEnabled"]


async def test_disable_with_a_code_or_the_password(fresh_portal: Portal) -> None:
    secret = await turned_on(fresh_portal)
    code = code_at(secret, fresh_portal.clock.now())
    assert await _call(fresh_portal, DISABLE, "disableTotp", code=code) == {
        "totpEnabled": False,
        "errors": [],
    }
    assert (await sign_in(fresh_portal, ALEX, DEMO_PASSWORD))["errors"] == []
    await turned_on(fresh_portal)
    payload = await _call(fresh_portal, DISABLE, "disableTotp", password=DEMO_PASSWORD)
    assert payload["totpEnabled"] is False
    assert await count(fresh_portal, m.TotpFactor) == 0


async def test_disable_refusals_change_nothing(fresh_portal: Portal) -> None:
    not_on = await _call(fresh_portal, DISABLE, "disableTotp", password=DEMO_PASSWORD)
    assert codes(not_on) == ["TOTP_NOT_ENABLED"]
    await turned_on(fresh_portal)
    cases = [
        ({}, "INVALID_INPUT"),
        ({"code": "000000"}, "INVALID_TOTP_CODE"),
        ({"password": WRONG}, "INVALID_CREDENTIALS"),
    ]
    for fields, code in cases:
        assert codes(await _call(fresh_portal, DISABLE, "disableTotp", **fields)) == [code]
    assert (await count(fresh_portal, m.TotpFactor, m.TotpFactor.confirmed_at.is_not(None))) == 1
    assert codes(await sign_in(fresh_portal, ALEX, DEMO_PASSWORD)) == ["TOTP_REQUIRED"]


async def test_totp_needs_a_signed_in_account(fresh_portal: Portal) -> None:
    result = await fresh_portal.gql(ENABLE, {"input": {"currentPassword": DEMO_PASSWORD}})
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await count(fresh_portal, m.TotpFactor) == 0
