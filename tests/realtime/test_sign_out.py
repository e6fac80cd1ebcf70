"""Signing out ends the session's open streams too (docs/sessions.md), on both protocols:
at the next event, or while idle at the next recheck; and the token opens no new socket."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from persistence import models as m
from persistence.db import create_engine, session_factory
from tests.conftest import DEMO_PASSWORD, Database, patient_gid
from tests.realtime.conftest import StartServer
from tests.realtime.harness import (
    ACCOUNTS,
    LEGACY_WS,
    TRANSPORT_WS,
    Client,
    Closed,
    Family,
    Server,
    eventually,
    provider_reply,
    stranger,
    thread_of,
)
from tests.realtime.test_ending import MESSAGES, _ended

SIGN_IN = """mutation($input: SignInInput!) {
  signIn(input: $input) { accessToken refreshToken errors { code } }
}"""
SIGN_OUT = """mutation($input: SignOutInput!) { signOut(input: $input) { ok errors { code } } }"""
REFRESH = """mutation($input: RefreshSessionInput!) {
  refreshSession(input: $input) { accessToken errors { code } }
}"""
EVERYWHERE = """mutation { signOutEverywhere { ended errors { code } } }"""
VIEWER = "query { viewer { account { username } } }"


async def _sign_in(server: Server, username: str = "leo.rivera") -> dict[str, Any]:
    result = await server.gql(
        SIGN_IN, {"input": {"username": username, "password": DEMO_PASSWORD}}, token=""
    )
    payload: dict[str, Any] = result["data"]["signIn"]
    assert payload["errors"] == [], result
    return payload


async def _end_by_signing_out(server: Server, session: dict[str, Any]) -> None:
    out = await server.gql(SIGN_OUT, {"input": {"refreshToken": session["refreshToken"]}}, "")
    assert out["data"]["signOut"] == {"ok": True, "errors": []}


async def _end_by_reusing_a_refresh_token(server: Server, session: dict[str, Any]) -> None:
    """The refresh token used twice (a thief's replay): the session ends."""
    for codes in ([], ["SESSION_REVOKED"]):
        used = await server.gql(REFRESH, {"input": {"refreshToken": session["refreshToken"]}}, "")
        assert [e["code"] for e in used["data"]["refreshSession"]["errors"]] == codes


ENDINGS = {"sign out": _end_by_signing_out, "refresh reuse": _end_by_reusing_a_refresh_token}


@pytest.mark.parametrize(
    ("protocol", "ending"),
    [(TRANSPORT_WS, "sign out"), (LEGACY_WS, "sign out"), (TRANSPORT_WS, "refresh reuse")],
)
async def test_an_ended_session_ends_the_stream_at_the_next_event(
    start_server: StartServer, people: Family, live_db: Database, protocol: str, ending: str
) -> None:
    server = await start_server()
    session = await _sign_in(server)
    leo = await Client.connect(server, session["accessToken"], protocol)
    op = await leo.subscribe(MESSAGES, after=await server.seq())
    thread, provider = await thread_of(live_db.url, people.leo)
    await server.post_event(provider_reply(thread, provider, "before"))
    assert (await leo.data(op))["messageReceived"]["message"]["body"] == "before"

    await ENDINGS[ending](server, session)
    await server.post_event(provider_reply(thread, provider, "after"))
    assert await _ended(leo, op) == {"code": "UNAUTHENTICATED"}

    # The same token: refused over HTTP, and for a new connection.
    over_http = await server.gql(VIEWER, {}, session["accessToken"])
    assert over_http["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    with pytest.raises(Closed):
        await Client.connect(server, session["accessToken"], protocol)


async def test_sign_out_everywhere_ends_an_idle_stream_at_the_recheck(
    start_server: StartServer, people: Family
) -> None:
    server = await start_server(REALTIME_RECHECK_SECONDS="0.5")
    phone, laptop = await _sign_in(server), await _sign_in(server)
    leo = await Client.connect(server, phone["accessToken"])
    op = await leo.subscribe(MESSAGES, {"patientId": patient_gid(people.leo)})
    out = await server.gql(EVERYWHERE, {}, laptop["accessToken"])
    assert out["data"]["signOutEverywhere"] == {"ended": 2, "errors": []}
    assert await _ended(leo, op, within=10) == {"code": "UNAUTHENTICATED"}


async def test_a_refused_subscription_is_audited_as_a_refused_read(
    start_server: StartServer, live_db: Database
) -> None:
    server = await start_server()
    _account, patient = await stranger(live_db.url)
    alex = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    op = await alex.subscribe(MESSAGES, {"patientId": patient_gid(patient)})
    assert (await _ended(alex, op))["code"] == "FORBIDDEN"

    async def refused() -> list[tuple[str | None, str | None, str]]:
        engine = create_engine(live_db.url)
        try:
            async with session_factory(engine)() as session:
                rows = await session.execute(
                    select(
                        m.AuditEvent.patient_id, m.AuditEvent.area, m.AuditEvent.account_id
                    ).where(m.AuditEvent.action == "refused")
                )
                return [(p, a, acc) for p, a, acc in rows.all()]
        finally:
            await engine.dispose()

    async def written() -> bool:
        return bool(await refused())

    await eventually(written)
    assert await refused() == [(patient, "MESSAGES", ACCOUNTS["alex"])]
