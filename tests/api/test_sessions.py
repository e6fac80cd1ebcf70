"""Sessions (docs/sessions.md): a sign-in is a session; ending it ends its access tokens at
once; `viewer.sessions` lists the account's own; the edge authenticates a request once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy import event, select

from persistence import models as m
from persistence.uow import UnitOfWork
from tests.conftest import ACCOUNT_IDS, ALEX, DANIEL, DEMO_PASSWORD, NOW, Portal, errors_of

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)

SIGN_IN = """
mutation SignIn($input: SignInInput!) {
  signIn(input: $input) { accessToken refreshToken errors { code } }
}
"""
REFRESH = """
mutation Refresh($input: RefreshSessionInput!) {
  refreshSession(input: $input) { accessToken refreshToken errors { code } }
}
"""
SIGN_OUT = """
mutation SignOut($input: SignOutInput!) { signOut(input: $input) { ok errors { code } } }
"""
SIGN_OUT_SESSION = """
mutation SignOutSession($input: SignOutSessionInput!) {
  signOutSession(input: $input) { ok errors { code field } }
}
"""
SIGN_OUT_EVERYWHERE = """
mutation SignOutEverywhere($input: SignOutEverywhereInput) {
  signOutEverywhere(input: $input) { ended errors { code } }
}
"""
CHANGE_PASSWORD = """
mutation Change($input: ChangePasswordInput!) {
  changePassword(input: $input) { ok errors { code } }
}
"""
SESSIONS = """
query Sessions {
  viewer { sessions { id device userAgent clientAddress startedAt lastUsedAt current } }
}
"""
VIEWER = "query Viewer { viewer { account { username } } }"
NEW_PASSWORD = "a-new-passphrase-2026"


async def post(
    portal: Portal,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    user_agent: str | None = None,
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    if user_agent:
        headers["user-agent"] = user_agent
    body = {"query": query, "variables": variables or {}}
    response = await portal.client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def sign_in(portal: Portal, username: str = ALEX, user_agent: str = FIREFOX) -> Any:
    input = {"username": username, "password": DEMO_PASSWORD}
    result = await post(portal, SIGN_IN, {"input": input}, user_agent=user_agent)
    assert result["data"]["signIn"]["errors"] == [], result
    return result["data"]["signIn"]


async def works(portal: Portal, token: str) -> bool:
    """Whether the access token still authenticates: a username, or UNAUTHENTICATED."""
    result = await post(portal, VIEWER, token=token)
    if result["data"]["viewer"] is not None:
        return True
    assert errors_of(result) == [("UNAUTHENTICATED", None)]
    return False


async def sessions(portal: Portal, token: str) -> list[dict[str, Any]]:
    result = await post(portal, SESSIONS, token=token)
    assert "errors" not in result, result
    found: list[dict[str, Any]] = result["data"]["viewer"]["sessions"]
    return found


async def test_sign_out_ends_the_access_token_at_once(fresh_portal: Portal) -> None:
    session = await sign_in(fresh_portal)
    assert await works(fresh_portal, session["accessToken"])
    out = await post(fresh_portal, SIGN_OUT, {"input": {"refreshToken": session["refreshToken"]}})
    assert out["data"]["signOut"] == {"ok": True, "errors": []}
    assert not await works(fresh_portal, session["accessToken"])  # not at its expiry: now


async def test_refresh_token_reuse_ends_the_sessions_access_tokens(fresh_portal: Portal) -> None:
    first = await sign_in(fresh_portal)
    refreshed = await post(
        fresh_portal, REFRESH, {"input": {"refreshToken": first["refreshToken"]}}
    )
    second = refreshed["data"]["refreshSession"]
    assert await works(fresh_portal, second["accessToken"])
    # The first refresh token comes back (a thief's replay, or a retry): the session ends.
    again = await post(fresh_portal, REFRESH, {"input": {"refreshToken": first["refreshToken"]}})
    assert [e["code"] for e in again["data"]["refreshSession"]["errors"]] == ["SESSION_REVOKED"]
    assert not await works(fresh_portal, first["accessToken"])
    assert not await works(fresh_portal, second["accessToken"])


async def test_sign_out_session_ends_another_device_only(fresh_portal: Portal) -> None:
    laptop = await sign_in(fresh_portal, user_agent=FIREFOX)
    phone = await sign_in(fresh_portal, user_agent=IPHONE)
    listed = await sessions(fresh_portal, laptop["accessToken"])
    assert sorted((s["device"], s["current"]) for s in listed) == [
        ("Firefox on Windows", True),
        ("Safari on iPhone", False),
    ]
    phone_id = next(s["id"] for s in listed if not s["current"])
    out = await post(
        fresh_portal, SIGN_OUT_SESSION, {"input": {"id": phone_id}}, laptop["accessToken"]
    )
    assert out["data"]["signOutSession"] == {"ok": True, "errors": []}
    assert not await works(fresh_portal, phone["accessToken"])
    assert await works(fresh_portal, laptop["accessToken"])
    refused = await post(fresh_portal, REFRESH, {"input": {"refreshToken": phone["refreshToken"]}})
    assert [e["code"] for e in refused["data"]["refreshSession"]["errors"]] == ["SESSION_REVOKED"]
    assert [s["device"] for s in await sessions(fresh_portal, laptop["accessToken"])] == [
        "Firefox on Windows"
    ]


async def test_another_accounts_session_is_not_found_and_stays(fresh_portal: Portal) -> None:
    alex, daniel = await sign_in(fresh_portal, ALEX), await sign_in(fresh_portal, DANIEL)
    [daniels] = await sessions(fresh_portal, daniel["accessToken"])
    out = await post(
        fresh_portal, SIGN_OUT_SESSION, {"input": {"id": daniels["id"]}}, alex["accessToken"]
    )
    assert out["data"]["signOutSession"] == {
        "ok": False,
        "errors": [{"code": "SESSION_NOT_FOUND", "field": "id"}],
    }
    assert await works(fresh_portal, daniel["accessToken"])
    # Alex's list is Alex's own: Daniel's session is not in it.
    assert daniels["id"] not in [s["id"] for s in await sessions(fresh_portal, alex["accessToken"])]


async def test_sign_out_everywhere(fresh_portal: Portal) -> None:
    a = await sign_in(fresh_portal)
    b = await sign_in(fresh_portal, user_agent=IPHONE)
    c = await sign_in(fresh_portal)
    daniel = await sign_in(fresh_portal, DANIEL)
    kept = await post(
        fresh_portal, SIGN_OUT_EVERYWHERE, {"input": {"keepCurrent": True}}, a["accessToken"]
    )
    assert kept["data"]["signOutEverywhere"] == {"ended": 2, "errors": []}
    assert [await works(fresh_portal, s["accessToken"]) for s in (a, b, c)] == [True, False, False]
    everywhere = await post(fresh_portal, SIGN_OUT_EVERYWHERE, {}, a["accessToken"])
    assert everywhere["data"]["signOutEverywhere"] == {"ended": 1, "errors": []}
    assert not await works(fresh_portal, a["accessToken"])
    assert await works(fresh_portal, daniel["accessToken"])  # another account: untouched


async def test_a_password_change_ends_the_other_sessions_not_this_one(fresh_portal: Portal) -> None:
    this, other = await sign_in(fresh_portal), await sign_in(fresh_portal, user_agent=IPHONE)
    input = {"currentPassword": DEMO_PASSWORD, "newPassword": NEW_PASSWORD}
    changed = await post(fresh_portal, CHANGE_PASSWORD, {"input": input}, this["accessToken"])
    assert changed["data"]["changePassword"] == {"ok": True, "errors": []}
    assert await works(fresh_portal, this["accessToken"])
    assert not await works(fresh_portal, other["accessToken"])
    assert [s["current"] for s in await sessions(fresh_portal, this["accessToken"])] == [True]


RESET = """
mutation Reset($input: ResetPasswordInput!) { resetPassword(input: $input) { ok errors { code } } }
"""


async def _reset_token(portal: Portal, token: str) -> None:
    uow = UnitOfWork(portal.services.sessions)
    async with uow:
        await uow.password_resets.create(ACCOUNT_IDS[ALEX], token, NOW, timedelta(hours=1))
        await uow.commit()


async def test_a_password_reset_ends_the_sessions_but_the_one_it_is_made_from(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    signed_in, other = await sign_in(portal), await sign_in(portal, user_agent=IPHONE)
    await _reset_token(portal, "reset-from-a-session")
    input = {"token": "reset-from-a-session", "newPassword": NEW_PASSWORD}
    reset = await post(portal, RESET, {"input": input}, signed_in["accessToken"])
    assert reset["data"]["resetPassword"] == {"ok": True, "errors": []}
    assert await works(portal, signed_in["accessToken"])
    assert not await works(portal, other["accessToken"])
    # Made signed out (the usual way, from the mailed link): every session ends.
    await _reset_token(portal, "reset-signed-out")
    input = {"token": "reset-signed-out", "newPassword": NEW_PASSWORD + "-again"}
    assert (await post(portal, RESET, {"input": input}))["data"]["resetPassword"]["ok"] is True
    assert not await works(portal, signed_in["accessToken"])


async def test_viewer_sessions_says_where_and_when(fresh_portal: Portal) -> None:
    portal = fresh_portal
    session = await sign_in(portal, user_agent=FIREFOX)
    [listed] = await sessions(portal, session["accessToken"])
    started = listed["startedAt"]
    assert listed["device"] == "Firefox on Windows"
    assert listed["userAgent"] == FIREFOX
    assert listed["clientAddress"] == "127.0.0.1"
    assert listed["current"] is True
    assert listed["lastUsedAt"] == started
    # Used again within the minute: not written; after it, written once.
    portal.clock.advance(timedelta(seconds=30))
    assert (await sessions(portal, session["accessToken"]))[0]["lastUsedAt"] == started
    portal.clock.advance(timedelta(seconds=31))
    later = (await sessions(portal, session["accessToken"]))[0]["lastUsedAt"]
    assert later > started
    # A refresh moves it too, and keeps the session (same id).
    refreshed = await post(portal, REFRESH, {"input": {"refreshToken": session["refreshToken"]}})
    token = refreshed["data"]["refreshSession"]["accessToken"]
    assert [s["id"] for s in await sessions(portal, token)] == [listed["id"]]


async def test_sessions_need_a_signed_in_viewer(fresh_portal: Portal) -> None:
    assert (await post(fresh_portal, SESSIONS))["data"] == {"viewer": None}
    out = await post(fresh_portal, SIGN_OUT_EVERYWHERE, {})
    assert errors_of(out) == [("UNAUTHENTICATED", None)]


async def test_a_batch_authenticates_once(fresh_portal: Portal) -> None:
    portal = fresh_portal
    token = await portal.token(ALEX)
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "account_sessions" in statement and statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = portal.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        batch = [{"query": VIEWER}] * 3
        response = await portal.client.post(
            "/graphql", json=batch, headers={"authorization": f"Bearer {token}"}
        )
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert [r["data"]["viewer"]["account"]["username"] for r in response.json()] == [ALEX] * 3
    assert len(statements) == 1


async def test_sessions_are_stored_per_sign_in(fresh_portal: Portal) -> None:
    await sign_in(fresh_portal)
    async with fresh_portal.services.session() as session:
        rows = (await session.scalars(select(m.AccountSession))).all()
        tokens = (await session.scalars(select(m.RefreshToken))).all()
    [row] = [r for r in rows if r.account_id == ACCOUNT_IDS[ALEX]]
    assert {t.family_id for t in tokens if t.account_id == ACCOUNT_IDS[ALEX]} == {row.id}


async def test_a_token_minted_without_a_session_works_until_it_expires(
    fresh_portal: Portal,
) -> None:
    """Operator tooling holding the secret (the peer benchmark's token minting) issues
    tokens without `sid`: checked like any other, but no session of theirs can end."""
    now = fresh_portal.clock.now()
    token, _ = fresh_portal.services.tokens.issue(ACCOUNT_IDS[ALEX], now)
    assert await works(fresh_portal, token)
    assert (await post(fresh_portal, SESSIONS, token=token))["data"]["viewer"]["sessions"] == []
    fresh_portal.clock.advance(timedelta(days=2))  # past its expiry
    assert not await works(fresh_portal, token)


async def test_a_token_of_ours_with_an_expiry_past_any_date_is_refused(
    fresh_portal: Portal,
) -> None:
    """Signed with our secret (operator tooling), naming an open session, but with an `exp`
    no datetime can hold: UNAUTHENTICATED, not an exception out of the edge."""
    tokens = fresh_portal.services.tokens
    good = jwt.decode(await fresh_portal.token(ALEX), options={"verify_signature": False})
    assert await works(fresh_portal, jwt.encode(good, tokens.secret, algorithm="HS256"))
    for exp in (10**20, 1e30):
        token = jwt.encode({**good, "exp": exp}, tokens.secret, algorithm="HS256")
        assert not await works(fresh_portal, token)
