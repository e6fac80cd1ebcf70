"""Forgot password / username, reset and change: answers never tell whether an account exists,
mail goes only to the email on file, tokens work once and expire, sessions end."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from persistence import models as m
from tests.api.account_helpers import (
    NEW_PASSWORD,
    account_named,
    codes,
    count,
    mailbox_for,
    pending_mail,
    sign_in,
)
from tests.conftest import ALEX, DANIEL, DEMO_PASSWORD, Portal
from tests.mailbox import Mailbox, body_of, code_in, deliver

REQUEST_RESET = """
mutation R($input: RequestPasswordResetInput!) {
  requestPasswordReset(input: $input) { accepted message errors { code message field } }
}
"""
RESET = """
mutation R($input: ResetPasswordInput!) {
  resetPassword(input: $input) { ok errors { code message field } }
}
"""
REMINDER = """
mutation R($input: RequestUsernameReminderInput!) {
  requestUsernameReminder(input: $input) { accepted message errors { code message field } }
}
"""
CHANGE = """
mutation C($input: ChangePasswordInput!) {
  changePassword(input: $input) { ok errors { code message field } }
}
"""
REFRESH = """
mutation R($input: RefreshSessionInput!) {
  refreshSession(input: $input) { refreshToken errors { code } }
}
"""
TOKEN = r"\n    (\S+)\n"
WRONG = "not-the-password-2026"


@pytest.fixture
def mailbox(fresh_portal: Portal) -> Iterator[Mailbox]:
    yield from mailbox_for(fresh_portal)


async def _call(portal: Portal, query: str, field: str, **fields: Any) -> dict[str, Any]:
    result = await portal.gql(query, {"input": fields})
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"][field]
    return payload


async def request_reset(portal: Portal, value: str) -> dict[str, Any]:
    return await _call(portal, REQUEST_RESET, "requestPasswordReset", usernameOrEmail=value)


async def reset(portal: Portal, token: str, password: str = NEW_PASSWORD) -> dict[str, Any]:
    return await _call(portal, RESET, "resetPassword", token=token, newPassword=password)


async def _reset_token(portal: Portal, mailbox: Mailbox, username: str = ALEX) -> str:
    await request_reset(portal, username)
    await deliver(portal)
    account = await account_named(portal, username)
    return code_in(mailbox.to(account.email)[-1], TOKEN)


# -- requestPasswordReset ---------------------------------------------------------------------
async def test_reset_answers_the_same_for_known_and_unknown_accounts(
    fresh_portal: Portal, mailbox: Mailbox
) -> None:
    alex = await account_named(fresh_portal, ALEX)
    answers = [
        await request_reset(fresh_portal, ALEX),
        await request_reset(fresh_portal, "nobody.here"),
        await request_reset(fresh_portal, alex.email.upper()),
        await request_reset(fresh_portal, "nobody@example.org"),
    ]
    assert all(a == answers[0] for a in answers)
    assert answers[0]["accepted"] is True
    await deliver(fresh_portal)
    # Mail only for the existing account, and only to its email on file.
    assert {str(x["To"]) for x in mailbox.received} == {alex.email}
    assert len(mailbox.received) == 2


async def test_reset_mails_are_capped_per_hour(fresh_portal: Portal, mailbox: Mailbox) -> None:
    first = await request_reset(fresh_portal, ALEX)
    for _ in range(5):
        assert await request_reset(fresh_portal, ALEX) == first
    await deliver(fresh_portal)
    assert len(mailbox.received) == 3


async def test_reset_input_must_not_be_empty(fresh_portal: Portal) -> None:
    payload = await request_reset(fresh_portal, "   ")
    assert codes(payload) == ["INVALID_INPUT"]
    assert await pending_mail(fresh_portal) == 0


# -- resetPassword ------------------------------------------------------------------------------
async def test_a_reset_sets_the_password_unlocks_and_ends_every_session(
    fresh_portal: Portal, mailbox: Mailbox
) -> None:
    session = await sign_in(fresh_portal, ALEX, DEMO_PASSWORD)
    for _ in range(5):
        await sign_in(fresh_portal, ALEX, WRONG)
    assert codes(await sign_in(fresh_portal, ALEX, DEMO_PASSWORD)) == ["INVALID_CREDENTIALS"]

    token = await _reset_token(fresh_portal, mailbox)
    assert (await reset(fresh_portal, token))["errors"] == []
    assert (await sign_in(fresh_portal, ALEX, NEW_PASSWORD))["errors"] == []  # unlocked
    assert codes(await sign_in(fresh_portal, ALEX, DEMO_PASSWORD)) == ["INVALID_CREDENTIALS"]
    refreshed = await _call(
        fresh_portal, REFRESH, "refreshSession", refreshToken=session["refreshToken"]
    )
    assert codes(refreshed) == ["SESSION_REVOKED"]
    # The owner is told.
    await deliver(fresh_portal)
    assert "password" in str(mailbox.received[-1]["Subject"]).lower()


async def test_a_reset_token_works_once(fresh_portal: Portal, mailbox: Mailbox) -> None:
    token = await _reset_token(fresh_portal, mailbox)
    assert (await reset(fresh_portal, token))["errors"] == []
    again = await reset(fresh_portal, token, "another-new-password-77")
    assert codes(again) == ["INVALID_TOKEN"]
    assert (await sign_in(fresh_portal, ALEX, NEW_PASSWORD))["errors"] == []


async def test_a_reset_token_expires_after_an_hour(fresh_portal: Portal, mailbox: Mailbox) -> None:
    token = await _reset_token(fresh_portal, mailbox)
    fresh_portal.clock.advance(timedelta(hours=1))
    assert codes(await reset(fresh_portal, token)) == ["TOKEN_EXPIRED"]
    assert (await sign_in(fresh_portal, ALEX, DEMO_PASSWORD))["errors"] == []


async def test_only_the_newest_reset_token_works(fresh_portal: Portal, mailbox: Mailbox) -> None:
    older = await _reset_token(fresh_portal, mailbox)
    newer = await _reset_token(fresh_portal, mailbox)
    assert codes(await reset(fresh_portal, older)) == ["INVALID_TOKEN"]
    assert (await reset(fresh_portal, newer))["errors"] == []


async def test_a_weak_new_password_or_unknown_token_changes_nothing(
    fresh_portal: Portal, mailbox: Mailbox
) -> None:
    token = await _reset_token(fresh_portal, mailbox)
    weak = await reset(fresh_portal, token, "password1234")
    assert [(e["code"], e["field"]) for e in weak["errors"]] == [("WEAK_PASSWORD", "newPassword")]
    assert codes(await reset(fresh_portal, "made-up-token")) == ["INVALID_TOKEN"]
    assert (await sign_in(fresh_portal, ALEX, DEMO_PASSWORD))["errors"] == []
    # The token is still good after the refusal.
    assert (await reset(fresh_portal, token))["errors"] == []


async def test_concurrent_resets_with_one_token_succeed_once(
    fresh_portal: Portal, mailbox: Mailbox
) -> None:
    if fresh_portal.services.engine.dialect.name == "sqlite":
        pytest.skip("concurrency proof: PostgreSQL only (SQLite serializes writers)")
    token = await _reset_token(fresh_portal, mailbox)
    results = await asyncio.gather(
        *(reset(fresh_portal, token, f"{NEW_PASSWORD}-{i}") for i in range(6))
    )
    assert sorted(bool(r["ok"]) for r in results) == [False] * 5 + [True]


# -- requestUsernameReminder ----------------------------------------------------------------------
async def test_username_reminder_answers_the_same_and_mails_the_owner(
    fresh_portal: Portal, mailbox: Mailbox
) -> None:
    daniel = await account_named(fresh_portal, DANIEL)
    known = await _call(fresh_portal, REMINDER, "requestUsernameReminder", email=daniel.email)
    unknown = await _call(
        fresh_portal, REMINDER, "requestUsernameReminder", email="nobody@example.org"
    )
    assert known == unknown
    assert known["accepted"] is True
    await deliver(fresh_portal)
    [mail] = mailbox.received
    assert mail["To"] == daniel.email
    assert DANIEL in body_of(mail)


# -- changePassword --------------------------------------------------------------------------------
async def test_change_password_keeps_this_session_and_ends_the_others(
    fresh_portal: Portal, mailbox: Mailbox
) -> None:
    this = await sign_in(fresh_portal, ALEX, DEMO_PASSWORD)
    other = await sign_in(fresh_portal, ALEX, DEMO_PASSWORD)
    payload = await _change(fresh_portal, refreshToken=this["refreshToken"])
    assert payload == {"ok": True, "errors": []}
    kept = await _call(fresh_portal, REFRESH, "refreshSession", refreshToken=this["refreshToken"])
    assert kept["errors"] == []
    ended = await _call(fresh_portal, REFRESH, "refreshSession", refreshToken=other["refreshToken"])
    assert codes(ended) == ["SESSION_REVOKED"]
    assert (await sign_in(fresh_portal, ALEX, NEW_PASSWORD))["errors"] == []
    await deliver(fresh_portal)
    assert len(mailbox.received) == 1


async def test_change_password_without_a_refresh_token_ends_every_other_session(
    fresh_portal: Portal,
) -> None:
    """The session kept is the one the change is made from (its access token's)."""
    this = await sign_in(fresh_portal, ALEX, DEMO_PASSWORD)
    assert (await _change(fresh_portal))["ok"] is True
    ended = await _call(fresh_portal, REFRESH, "refreshSession", refreshToken=this["refreshToken"])
    assert codes(ended) == ["SESSION_REVOKED"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"currentPassword": WRONG}, "INVALID_CREDENTIALS"),
        ({"newPassword": "short"}, "WEAK_PASSWORD"),
        ({"newPassword": DEMO_PASSWORD}, "WEAK_PASSWORD"),
        ({"refreshToken": "not-a-token"}, "INVALID_REFRESH_TOKEN"),
    ],
)
async def test_change_password_refusals_change_nothing(
    fresh_portal: Portal, fields: dict[str, str], code: str
) -> None:
    session = await sign_in(fresh_portal, ALEX, DEMO_PASSWORD)
    assert codes(await _change(fresh_portal, **fields)) == [code]
    assert (await sign_in(fresh_portal, ALEX, DEMO_PASSWORD))["errors"] == []
    kept = await _call(
        fresh_portal, REFRESH, "refreshSession", refreshToken=session["refreshToken"]
    )
    assert kept["errors"] == []
    assert await pending_mail(fresh_portal) == 0


async def test_another_accounts_refresh_token_is_refused(fresh_portal: Portal) -> None:
    daniels = await sign_in(fresh_portal, DANIEL, DEMO_PASSWORD)
    payload = await _change(fresh_portal, refreshToken=daniels["refreshToken"])
    assert codes(payload) == ["INVALID_REFRESH_TOKEN"]


async def test_wrong_current_passwords_count_towards_the_lockout(fresh_portal: Portal) -> None:
    for _ in range(5):
        assert codes(await _change(fresh_portal, currentPassword=WRONG)) == ["INVALID_CREDENTIALS"]
    assert codes(await sign_in(fresh_portal, ALEX, DEMO_PASSWORD)) == ["INVALID_CREDENTIALS"]
    # Signed in, the account may hear of its lock: the same answer for every password.
    right, wrong = await _change(fresh_portal), await _change(fresh_portal, currentPassword=WRONG)
    assert codes(right) == ["ACCOUNT_LOCKED"]
    assert right == wrong


async def test_change_password_needs_a_signed_in_account(fresh_portal: Portal) -> None:
    result = await fresh_portal.gql(
        CHANGE, {"input": {"currentPassword": DEMO_PASSWORD, "newPassword": NEW_PASSWORD}}
    )
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await count(fresh_portal, m.RefreshToken, m.RefreshToken.revoked_at.is_not(None)) == 0
    assert (await sign_in(fresh_portal, ALEX, DEMO_PASSWORD))["errors"] == []


async def _change(portal: Portal, **fields: Any) -> dict[str, Any]:
    variables = {"currentPassword": DEMO_PASSWORD, "newPassword": NEW_PASSWORD, **fields}
    result = await portal.gql(CHANGE, {"input": variables}, as_user=ALEX)
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["changePassword"]
    return payload
