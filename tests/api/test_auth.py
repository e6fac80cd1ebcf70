"""Sign-in, lockout, refresh-token rotation and re-use detection, sign-out, token checks."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
import warnings
from datetime import timedelta
from typing import Any

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning
from sqlalchemy import select

from persistence import models as m
from persistence.sessions import NewSession, SessionRepository
from runtime.security import CLOCK_SKEW_SECONDS
from tests.conftest import ACCOUNT_IDS, ALEX, DEMO_PASSWORD, NOW, Portal, errors_of

SIGN_IN = """
mutation SignIn($input: SignInInput!) {
  signIn(input: $input) {
    accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt
    viewer { account { username lastSignInAt } patients { relationship } }
    errors { code message field }
  }
}
"""

REFRESH = """
mutation Refresh($input: RefreshSessionInput!) {
  refreshSession(input: $input) {
    accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt
    errors { code message field }
  }
}
"""

SIGN_OUT = """
mutation SignOut($input: SignOutInput!) {
  signOut(input: $input) { ok errors { code message field } }
}
"""

VIEWER = "query Viewer { viewer { account { username } } }"

WRONG_PASSWORD = "not-the-password-2026"


async def sign_in(
    portal: Portal, username: str = ALEX, password: str = DEMO_PASSWORD
) -> dict[str, Any]:
    result = await portal.gql(SIGN_IN, {"input": {"username": username, "password": password}})
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["signIn"]
    return payload


async def refresh(portal: Portal, refresh_token: str) -> dict[str, Any]:
    result = await portal.gql(REFRESH, {"input": {"refreshToken": refresh_token}})
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["refreshSession"]
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def viewer_username(portal: Portal, access_token: str) -> str | None:
    result = await portal.gql(VIEWER, token=access_token)
    viewer = result["data"]["viewer"]
    return None if viewer is None else str(viewer["account"]["username"])


# -- sign-in ------------------------------------------------------------------------------
async def test_sign_in_returns_tokens_that_work(fresh_portal: Portal) -> None:
    payload = await sign_in(fresh_portal)
    assert payload["errors"] == []
    assert payload["accessTokenExpiresAt"] == (NOW + timedelta(minutes=15)).isoformat()
    assert payload["refreshTokenExpiresAt"] == (NOW + timedelta(days=30)).isoformat()
    # The payload's viewer already answers for the account that just signed in.
    viewer = payload["viewer"]
    assert viewer["account"] == {"username": ALEX, "lastSignInAt": NOW.isoformat()}
    assert [p["relationship"] for p in viewer["patients"]] == ["SELF", "PARENT", "PARENT"]
    assert await viewer_username(fresh_portal, payload["accessToken"]) == ALEX


async def test_username_is_matched_without_case_or_spaces(fresh_portal: Portal) -> None:
    payload = await sign_in(fresh_portal, username="  Alex.Rivera ")
    assert payload["errors"] == []


async def test_wrong_password_and_unknown_username_answer_the_same(fresh_portal: Portal) -> None:
    wrong_password = await sign_in(fresh_portal, password=WRONG_PASSWORD)
    unknown_user = await sign_in(fresh_portal, username="nobody.here", password=WRONG_PASSWORD)
    assert wrong_password == unknown_user
    assert wrong_password == {
        "accessToken": None,
        "accessTokenExpiresAt": None,
        "refreshToken": None,
        "refreshTokenExpiresAt": None,
        "viewer": None,
        "errors": [
            {
                "code": "INVALID_CREDENTIALS",
                "message": "The username or password is not correct. After repeated failed "
                "sign-ins an account is locked for a while; reset your password to unlock it "
                "at once.",
                "field": None,
            }
        ],
    }


async def test_five_failures_lock_the_account_for_fifteen_minutes(fresh_portal: Portal) -> None:
    unknown_user = await sign_in(fresh_portal, username="nobody.here", password=WRONG_PASSWORD)
    for _ in range(5):
        failure = await sign_in(fresh_portal, password=WRONG_PASSWORD)
        # Every failure, the locking one included, looks like an unknown username's.
        assert failure == unknown_user
    # Locked: the right password is refused with the very answer a wrong one or an unknown
    # username gets, so guessing on through the lock learns nothing.
    locked = await sign_in(fresh_portal)
    assert locked == unknown_user
    assert await sign_in(fresh_portal, password=WRONG_PASSWORD) == unknown_user

    fresh_portal.clock.advance(timedelta(minutes=14, seconds=59))
    assert await sign_in(fresh_portal) == unknown_user
    fresh_portal.clock.advance(timedelta(seconds=1))
    assert (await sign_in(fresh_portal))["errors"] == []


async def test_concurrent_failures_all_count(fresh_portal: Portal) -> None:
    attempts = [sign_in(fresh_portal, password=WRONG_PASSWORD) for _ in range(5)]
    results = await asyncio.gather(*attempts)
    assert [codes(r) for r in results] == [["INVALID_CREDENTIALS"]] * 5
    # The right password is refused now: all five counted.
    assert codes(await sign_in(fresh_portal)) == ["INVALID_CREDENTIALS"]


async def test_a_success_resets_the_failure_count(fresh_portal: Portal) -> None:
    for _ in range(4):
        assert codes(await sign_in(fresh_portal, password=WRONG_PASSWORD)) == [
            "INVALID_CREDENTIALS"
        ]
    assert (await sign_in(fresh_portal))["errors"] == []
    for _ in range(4):
        await sign_in(fresh_portal, password=WRONG_PASSWORD)
    assert (await sign_in(fresh_portal))["errors"] == []


# -- refresh tokens -----------------------------------------------------------------------
async def test_refresh_rotates_and_re_use_revokes_the_family(fresh_portal: Portal) -> None:
    first = await sign_in(fresh_portal)
    other_session = await sign_in(fresh_portal)
    second = await refresh(fresh_portal, first["refreshToken"])
    assert second["errors"] == []
    assert second["refreshToken"] != first["refreshToken"]
    assert second["accessToken"] != first["accessToken"]
    assert await viewer_username(fresh_portal, second["accessToken"]) == ALEX
    third = await refresh(fresh_portal, second["refreshToken"])
    assert third["errors"] == []

    # The first token again: re-use. It fails, and so does the newest of its family.
    assert codes(await refresh(fresh_portal, first["refreshToken"])) == ["SESSION_REVOKED"]
    assert codes(await refresh(fresh_portal, third["refreshToken"])) == ["SESSION_REVOKED"]
    # Another sign-in is another family, untouched.
    assert (await refresh(fresh_portal, other_session["refreshToken"]))["errors"] == []


async def test_refresh_tokens_are_stored_hashed(fresh_portal: Portal) -> None:
    session = await sign_in(fresh_portal)
    token = session["refreshToken"]
    async with fresh_portal.services.session() as db:
        rows = (
            await db.scalars(
                select(m.RefreshToken).where(m.RefreshToken.account_id == ACCOUNT_IDS[ALEX])
            )
        ).all()
    [row] = rows
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.id, row.family_id, row.token_hash}


async def test_expired_refresh_token(fresh_portal: Portal) -> None:
    early = await sign_in(fresh_portal)
    fresh_portal.clock.advance(timedelta(days=1))
    late = await sign_in(fresh_portal)
    fresh_portal.clock.advance(timedelta(days=29))
    assert codes(await refresh(fresh_portal, early["refreshToken"])) == ["SESSION_EXPIRED"]
    assert (await refresh(fresh_portal, late["refreshToken"]))["errors"] == []


async def test_unknown_refresh_token(portal: Portal) -> None:
    payload = await refresh(portal, "not-a-token-we-issued")
    assert codes(payload) == ["INVALID_REFRESH_TOKEN"]
    assert payload["accessToken"] is None
    result = await portal.gql(SIGN_OUT, {"input": {"refreshToken": "not-a-token-we-issued"}})
    assert result["data"]["signOut"]["ok"] is False
    assert codes(result["data"]["signOut"]) == ["INVALID_REFRESH_TOKEN"]


async def test_concurrent_refreshes_with_one_token_give_one_success(fresh_portal: Portal) -> None:
    session = await sign_in(fresh_portal)
    results = await asyncio.gather(
        *(refresh(fresh_portal, session["refreshToken"]) for _ in range(5))
    )
    winners = [r for r in results if r["errors"] == []]
    assert len(winners) == 1
    assert sorted(codes(r)[0] for r in results if r["errors"]) == ["SESSION_REVOKED"] * 4
    # The losers were re-uses: the family is over, the winner's new token included.
    assert codes(await refresh(fresh_portal, winners[0]["refreshToken"])) == ["SESSION_REVOKED"]


# -- sign-out ----------------------------------------------------------------------------
async def test_sign_out_revokes_the_session(fresh_portal: Portal) -> None:
    session = await sign_in(fresh_portal)
    other_session = await sign_in(fresh_portal)
    rotated = await refresh(fresh_portal, session["refreshToken"])
    result = await fresh_portal.gql(SIGN_OUT, {"input": {"refreshToken": rotated["refreshToken"]}})
    assert result == {"data": {"signOut": {"ok": True, "errors": []}}}
    assert codes(await refresh(fresh_portal, rotated["refreshToken"])) == ["SESSION_REVOKED"]
    assert (await refresh(fresh_portal, other_session["refreshToken"]))["errors"] == []


# -- access tokens -----------------------------------------------------------------------
async def test_access_token_expires_after_fifteen_minutes(fresh_portal: Portal) -> None:
    token = (await sign_in(fresh_portal))["accessToken"]
    fresh_portal.clock.advance(timedelta(minutes=14, seconds=59))
    assert await viewer_username(fresh_portal, token) == ALEX
    fresh_portal.clock.advance(timedelta(seconds=1))
    result = await fresh_portal.gql(VIEWER, token=token)
    assert result["data"] == {"viewer": None}
    assert errors_of(result) == [("UNAUTHENTICATED", None)]


# A session of Alex's that the token builder below names (`_with_session` starts it).
FORGERY_SESSION = "ses-forgery-builder"


async def _with_session(portal: Portal) -> None:
    async with portal.services.session() as session:
        if await session.get(m.AccountSession, FORGERY_SESSION) is None:
            new = NewSession(ACCOUNT_IDS[ALEX], FORGERY_SESSION, "Test client", None, None)
            SessionRepository(session).start(new, NOW, NOW + timedelta(days=1))
            await session.commit()


def _claims(portal: Portal, **changes: Any) -> dict[str, Any]:
    settings = portal.services.settings
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": ACCOUNT_IDS[ALEX],
        "sid": FORGERY_SESSION,
        "iat": int(NOW.timestamp()),
        "nbf": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(minutes=15)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _hs512(portal: Portal) -> str:
    """Signed with the right secret, but not with the one algorithm we accept."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(_claims(portal), portal.services.settings.jwt_secret, algorithm="HS512")


FORGERIES = {
    "another secret": lambda p: jwt.encode(
        _claims(p), "another-secret-of-32-characters-or-more", algorithm="HS256"
    ),
    "another audience": lambda p: jwt.encode(
        _claims(p, aud="someone-else"), p.services.settings.jwt_secret, algorithm="HS256"
    ),
    "another issuer": lambda p: jwt.encode(
        _claims(p, iss="someone-else"), p.services.settings.jwt_secret, algorithm="HS256"
    ),
    "alg none": lambda p: jwt.encode(_claims(p), "", algorithm="none"),
    "another algorithm": lambda p: _hs512(p),
    "no jti": lambda p: jwt.encode(
        _claims(p, jti=None), p.services.settings.jwt_secret, algorithm="HS256"
    ),
    # A token with no `sid` at all is not a forgery: operator tooling mints them (see
    # tests/api/test_sessions.py::test_a_token_minted_without_a_session_works_until_it_expires).
    "another session": lambda p: jwt.encode(
        _claims(p, sid="ses-nobody"), p.services.settings.jwt_secret, algorithm="HS256"
    ),
    "no nbf": lambda p: jwt.encode(
        _claims(p, nbf=None), p.services.settings.jwt_secret, algorithm="HS256"
    ),
}


@pytest.mark.parametrize("forgery", FORGERIES)
async def test_forged_access_tokens_are_unauthenticated(portal: Portal, forgery: str) -> None:
    await _with_session(portal)
    result = await portal.gql(VIEWER, token=FORGERIES[forgery](portal))
    assert result["data"] == {"viewer": None}
    assert errors_of(result) == [("UNAUTHENTICATED", None)]


async def test_the_forgery_builder_makes_valid_tokens_with_the_real_key(portal: Portal) -> None:
    await _with_session(portal)
    token = jwt.encode(_claims(portal), portal.services.settings.jwt_secret, algorithm="HS256")
    assert await viewer_username(portal, token) == ALEX


@pytest.mark.parametrize(("seconds", "accepted"), [(CLOCK_SKEW_SECONDS, True), (31, False)])
async def test_not_before_is_verified_with_the_clock_skew(
    portal: Portal, seconds: int, accepted: bool
) -> None:
    """`nbf` in the future beyond the skew another instance's clock may have: refused."""
    await _with_session(portal)
    claims = _claims(portal, nbf=int(NOW.timestamp()) + seconds)
    token = jwt.encode(claims, portal.services.settings.jwt_secret, algorithm="HS256")
    assert await viewer_username(portal, token) == (ALEX if accepted else None)
