"""Streams end when the subscriber may no longer see: a revoked grant, a grant that expires,
an access token that expires. After that, nothing more reaches the client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from domain.scopes import RecordArea
from persistence import models as m
from persistence.db import create_engine, session_factory
from persistence.notify import Notice, notify
from runtime.config import Settings
from schema.base import to_global_id
from tests.conftest import DEMO_PASSWORD, Database, patient_gid
from tests.realtime.conftest import StartServer
from tests.realtime.harness import (
    ACCOUNTS,
    Client,
    Family,
    Server,
    provider_reply,
    thread_of,
)

MESSAGES = """subscription($patientId: ID, $afterSeq: ID) {
  messageReceived(patientId: $patientId, afterSeq: $afterSeq) { seq message { body } }
}"""
NOTIFICATIONS = """subscription($afterSeq: ID) {
  notificationAdded(afterSeq: $afterSeq) { seq notification { kind } }
}"""
SIGN_IN = (
    """mutation($input: SignInInput!) { signIn(input: $input) { accessToken errors { code } } }"""
)


async def _set_grant(database_url: str, grant_id: str, **values: Any) -> None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            await session.execute(
                update(m.ProxyGrant).where(m.ProxyGrant.id == grant_id).values(**values)
            )
            await session.commit()
    finally:
        await engine.dispose()


async def _ended(client: Client, op: str, within: float = 10.0) -> dict[str, Any]:
    """The error that ended the operation; its `complete` must follow."""
    message = await client.next(op, within)
    assert message["type"] in ("next", "data"), message
    assert message["payload"]["data"] is None
    (error,) = message["payload"]["errors"]
    assert (await client.next(op))["type"] == "complete"
    extensions: dict[str, Any] = error["extensions"]
    return extensions


async def test_revoking_a_grant_ends_the_stream_at_the_next_event(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    server = await start_server()
    susan = await Client.connect(server, await server.token(ACCOUNTS["susan"]))
    since = await server.seq()
    mother = await susan.subscribe(
        MESSAGES, {"patientId": patient_gid(people.margaret)}, after=since
    )
    everyone = await susan.subscribe(MESSAGES, after=since)
    own = await susan.subscribe(MESSAGES, {"patientId": patient_gid(people.susan)}, after=since)
    thread, provider = await thread_of(live_db.url, people.margaret)
    await server.post_event(provider_reply(thread, provider, "before"))
    assert (await susan.data(mother))["messageReceived"]["message"]["body"] == "before"
    assert (await susan.data(everyone))["messageReceived"]["message"]["body"] == "before"

    await _set_grant(live_db.url, people.susan_margaret_grant, status="revoked")
    await server.post_event(provider_reply(thread, provider, "after"))
    for op in (mother, everyone):
        ended = await _ended(susan, op)
        assert ended == {"code": "FORBIDDEN", "reason": "GRANT_NOT_ACTIVE", "area": "MESSAGES"}

    # Her own stream goes on, and nothing of her mother's came through: the next event on
    # the connection is her own.
    own_thread, own_provider = await thread_of(live_db.url, people.susan)
    await server.post_event(provider_reply(own_thread, own_provider, "hers"))
    message = await susan.next()
    assert message["id"] == own, message
    assert message["payload"]["data"]["messageReceived"]["message"]["body"] == "hers"

    # A new subscription for her mother is refused outright.
    again = await susan.subscribe(MESSAGES, {"patientId": patient_gid(people.margaret)})
    assert (await _ended(susan, again))["reason"] == "GRANT_NOT_ACTIVE"


async def test_a_revocation_ends_an_idle_stream_within_the_recheck_interval(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    server = await start_server(REALTIME_RECHECK_SECONDS="0.5")
    susan = await Client.connect(server, await server.token(ACCOUNTS["susan"]))
    patient = {"patientId": patient_gid(people.margaret)}
    op = await susan.subscribe(MESSAGES, patient, after=await server.seq())
    thread, provider = await thread_of(live_db.url, people.margaret)
    await server.post_event(provider_reply(thread, provider, "live"))
    await susan.data(op)  # the stream is live
    await _set_grant(live_db.url, people.susan_margaret_grant, status="revoked")
    assert (await _ended(susan, op, within=10))["reason"] == "GRANT_NOT_ACTIVE"


async def test_a_grant_that_expires_ends_the_stream_when_it_expires(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    server = await start_server()  # re-checks every 15 s: the end is known in advance
    alex = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    ends_at = datetime.now(UTC) + timedelta(seconds=4)
    await _set_grant(live_db.url, people.alex_mia_grant, ends_at=ends_at)
    op = await alex.subscribe(
        MESSAGES, {"patientId": patient_gid(people.mia)}, after=await server.seq()
    )
    thread, provider = await thread_of(live_db.url, people.mia)
    await server.post_event(provider_reply(thread, provider, "while it lasts"))
    await alex.data(op)
    ended = await _ended(alex, op, within=10)
    assert ended["reason"] == "GRANT_EXPIRED"
    assert datetime.now(UTC) >= ends_at


async def test_an_expiring_access_token_ends_every_stream_of_the_connection(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    server = await start_server(JWT_ACCESS_TTL_SECONDS="3")
    signed_in = await server.gql(
        SIGN_IN, {"input": {"username": "leo.rivera", "password": DEMO_PASSWORD}}, token=""
    )
    token = signed_in["data"]["signIn"]["accessToken"]
    leo = await Client.connect(server, token)
    since = await server.seq()
    messages = await leo.subscribe(MESSAGES, after=since)
    notes = await leo.subscribe(NOTIFICATIONS, after=since)
    thread, provider = await thread_of(live_db.url, people.leo)
    await server.post_event(provider_reply(thread, provider, "in time"))
    assert (await leo.data(messages))["messageReceived"]["message"]["body"] == "in time"
    assert (await leo.data(notes))["notificationAdded"]["notification"]["kind"] == (
        "MESSAGE_RECEIVED"
    )
    for op in (messages, notes):
        ended = await _ended(leo, op, within=10)
        assert ended == {"code": "UNAUTHENTICATED"}
    later = await leo.subscribe(MESSAGES)
    assert await _ended(leo, later) == {"code": "UNAUTHENTICATED"}


# -- a revocation through the API --------------------------------------------------------------
REVOKE = """mutation($input: RevokeProxyAccessInput!) {
  revokeProxyAccess(input: $input) { grant { status } errors { code message } }
}"""
NOTES_ABOUT = """subscription($afterSeq: ID) {
  notificationAdded(afterSeq: $afterSeq) { seq notification { title patient { id } } }
}"""


async def _jordan_follows_alex(database_url: str) -> str:
    """Jordan's (revoked) spouse grant on Alex's record, made active with MESSAGES: its id."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            grant = await session.scalar(
                select(m.ProxyGrant.id)
                .join(m.Account, m.Account.patient_id == m.ProxyGrant.patient_id)
                .where(
                    m.Account.id == ACCOUNTS["alex"],
                    m.ProxyGrant.proxy_account_id == ACCOUNTS["jordan"],
                )
            )
    finally:
        await engine.dispose()
    assert grant is not None
    await _set_grant(database_url, grant, status="active", scopes=["appointments", "messages"])
    return grant


async def _revoke(server: Server, grant_id: str) -> None:
    """Alex revokes the grant through revokeProxyAccess, over HTTP."""
    revoked = await server.gql(
        REVOKE,
        {"input": {"grantId": str(to_global_id("ProxyGrant", grant_id))}},
        await server.token(ACCOUNTS["alex"]),
    )
    assert revoked["data"]["revokeProxyAccess"] == {"grant": {"status": "REVOKED"}, "errors": []}


async def test_revoking_through_the_mutation_ends_the_proxys_open_streams(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    grant = await _jordan_follows_alex(live_db.url)
    server = await start_server()
    jordan = await Client.connect(server, await server.token(ACCOUNTS["jordan"]))
    since = await server.seq()
    hers = await jordan.subscribe(MESSAGES, {"patientId": patient_gid(people.alex)}, after=since)
    everyone = await jordan.subscribe(MESSAGES, after=since)
    thread, provider = await thread_of(live_db.url, people.alex)
    await server.post_event(provider_reply(thread, provider, "before"))
    for op in (hers, everyone):
        assert (await jordan.data(op))["messageReceived"]["message"]["body"] == "before"

    await _revoke(server, grant)
    await server.post_event(provider_reply(thread, provider, "after"))
    for op in (hers, everyone):
        ended = await _ended(jordan, op)
        assert ended == {"code": "FORBIDDEN", "reason": "GRANT_NOT_ACTIVE", "area": "MESSAGES"}


async def test_no_notification_about_a_patient_arrives_after_the_grant_is_revoked(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    """Including one written while the grant was active but published after the revocation;
    the proxy's other notifications go on, and the patient receives hers."""
    grant = await _jordan_follows_alex(live_db.url)
    # Events written by this test process wait for the server's next own commit.
    server = await start_server(REALTIME_DRAIN_SECONDS="3600")
    jordan = await Client.connect(server, await server.token(ACCOUNTS["jordan"]))
    alex = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    since = await server.seq()
    jordans = await jordan.subscribe(NOTES_ABOUT, after=since)
    alexs = await alex.subscribe(NOTES_ABOUT, after=since)
    thread, provider = await thread_of(live_db.url, people.alex)
    await server.post_event(provider_reply(thread, provider, "before"))
    for client, op in ((jordan, jordans), (alex, alexs)):
        note = (await client.data(op))["notificationAdded"]["notification"]
        assert note["patient"] == {"id": patient_gid(people.alex)}

    # Written while Jordan may read her messages (so he is told), published only later.
    engine = create_engine(live_db.url)
    try:
        async with session_factory(engine)() as session:
            notice = Notice("MESSAGE_RECEIVED", RecordArea.MESSAGES, "in flight", "", "msg-x")
            told = await notify(session, people.alex, notice, datetime.now(UTC), Settings().ages)
            assert {n.account_id for n in told} == {ACCOUNTS["alex"], ACCOUNTS["jordan"]}
            await session.commit()
    finally:
        await engine.dispose()
    await _revoke(server, grant)
    await server.post_event(provider_reply(thread, provider, "after"))  # publishes all
    mia_thread, mia_provider = await thread_of(live_db.url, people.mia)
    await server.post_event(provider_reply(mia_thread, mia_provider, "about Mia"))

    notes = [(await alex.data(alexs))["notificationAdded"]["notification"] for _ in (1, 2)]
    assert notes[0]["title"] == "in flight"  # it was published, to Alex at least
    assert notes[1]["patient"] == {"id": patient_gid(people.alex)}
    # Jordan's next one is about Mia: nothing about Alex came in between.
    message = await jordan.next()
    assert message["id"] == jordans, message
    note = message["payload"]["data"]["notificationAdded"]["notification"]
    assert note["patient"] == {"id": patient_gid(people.mia)}
