"""Redis pub/sub: two instances on one database and one Redis, and a Redis outage."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from persistence import models as m
from persistence.db import create_engine, session_factory
from schema.base import to_global_id
from tests.conftest import Database, patient_gid
from tests.realtime.conftest import StartServer
from tests.realtime.harness import (
    ACCOUNTS,
    Client,
    Cuttable,
    Family,
    eventually,
    provider_reply,
    thread_of,
)

MESSAGES = (
    "subscription($afterSeq: ID) { messageReceived(afterSeq: $afterSeq) { seq message { body } } }"
)
SEND_MESSAGE = """mutation($input: SendMessageInput!) {
  sendMessage(input: $input) { errors { code message } }
}"""
VIEWER = "query { viewer { account { displayName } } }"


def _send(patient_id: str, thread_id: str, body: str) -> dict[str, Any]:
    """sendMessage's variables: `body` in the patient's thread."""
    thread = str(to_global_id("MessageThread", thread_id))
    return {"input": {"patientId": patient_gid(patient_id), "threadId": thread, "body": body}}


async def _body(client: Client, op: str, within: float = 10.0) -> str:
    return str((await client.data(op, within))["messageReceived"]["message"]["body"])


async def test_a_write_on_one_instance_reaches_subscribers_on_the_other(
    start_server: StartServer, people: Family, live_db: Database, redis_url: str
) -> None:
    a = await start_server(REDIS_URL=redis_url)
    b = await start_server(REDIS_URL=redis_url)
    on_a = await Client.connect(a, await a.token(ACCOUNTS["jordan"]))
    on_b = await Client.connect(b, await a.token(ACCOUNTS["alex"]))
    since = await a.seq()
    op_a = await on_a.subscribe(MESSAGES, after=since)
    op_b = await on_b.subscribe(MESSAGES, after=since)
    thread, provider = await thread_of(live_db.url, people.mia)

    await b.post_event(provider_reply(thread, provider, "written on B"))  # the EHR feed on B
    assert await _body(on_a, op_a) == "written on B"
    assert await _body(on_b, op_b) == "written on B"

    sent = await a.gql(  # a mutation on A
        SEND_MESSAGE, _send(people.mia, thread, "written on A"), await a.token(ACCOUNTS["alex"])
    )
    assert sent["data"]["sendMessage"]["errors"] == [], sent
    assert await _body(on_b, op_b) == "written on A"
    assert await _body(on_a, op_a) == "written on A"


async def test_an_event_committed_while_redis_is_down_arrives_once_it_is_back(
    start_server: StartServer, people: Family, live_db: Database, redis_url: str
) -> None:
    target = urlsplit(redis_url)
    proxy = Cuttable(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.restore()
    try:
        server = await start_server(REDIS_URL=f"redis://127.0.0.1:{proxy.port}{target.path}")
        token = await server.token(ACCOUNTS["alex"])
        client = await Client.connect(server, token)
        op = await client.subscribe(MESSAGES, after=await server.seq())
        thread, provider = await thread_of(live_db.url, people.alex)
        await server.post_event(provider_reply(thread, provider, "before"))
        assert await _body(client, op) == "before"

        await proxy.cut()
        # Writes and reads go on: the events are committed and wait in the outbox.
        await server.post_event(provider_reply(thread, provider, "during the outage"))
        sent = await server.gql(SEND_MESSAGE, _send(people.alex, thread, "sent meanwhile"), token)
        assert sent.get("errors") is None, sent
        assert sent["data"]["sendMessage"]["errors"] == [], sent
        viewer = await server.gql(VIEWER, {}, token)
        assert viewer["data"]["viewer"]["account"]["displayName"]
        assert sorted(await _unpublished(live_db)) == ["during the outage", "sent meanwhile"]

        await proxy.restore()
        assert await _body(client, op, within=30) == "during the outage"
        assert await _body(client, op) == "sent meanwhile"
        await server.post_event(provider_reply(thread, provider, "after"))
        assert await _body(client, op) == "after"  # and it did not come twice

        async def all_published() -> bool:
            return await _unpublished(live_db) == []

        await eventually(all_published)
    finally:
        await proxy.cut()


async def _unpublished(database: Database) -> list[str]:
    engine = create_engine(database.url)
    try:
        async with session_factory(engine)() as session:
            stmt = (
                select(m.Message.body)
                .join(m.OutboxEvent, m.OutboxEvent.object_id == m.Message.id)
                .where(m.OutboxEvent.published_at.is_(None))
            )
            return list((await session.scalars(stmt)).all())
    finally:
        await engine.dispose()
