"""Resume after a disconnect: what was missed, in order, from the outbox, then live events,
with no gap and no duplicate at the seam."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from persistence import models as m
from persistence.db import create_engine, session_factory
from persistence.outbox_retention import pruned_through
from tests.conftest import Database
from tests.realtime.conftest import StartServer
from tests.realtime.harness import (
    ACCOUNTS,
    LEGACY_WS,
    TRANSPORT_WS,
    Client,
    Family,
    eventually,
    provider_reply,
    thread_of,
)

MESSAGES = """subscription($afterSeq: ID) {
  messageReceived(afterSeq: $afterSeq) { seq message { body } }
}"""
NOTIFICATIONS = """subscription($afterSeq: ID) {
  notificationAdded(afterSeq: $afterSeq) { seq notification { title } }
}"""


async def _event(client: Client, op: str, within: float = 10.0) -> tuple[int, str]:
    data = (await client.data(op, within))["messageReceived"]
    return int(data["seq"]), data["message"]["body"]


async def test_a_reconnecting_client_gets_what_it_missed_then_live_events(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    server = await start_server()
    token = await server.token(ACCOUNTS["alex"])
    mia = await thread_of(live_db.url, people.mia)
    leo = await thread_of(live_db.url, people.leo)
    own = await thread_of(live_db.url, people.alex)

    first = await Client.connect(server, token)
    op = await first.subscribe(MESSAGES, after=await server.seq())
    await server.post_event(provider_reply(*mia, "A"))
    last_seq, body = await _event(first, op)
    assert body == "A"
    await first.close()

    await server.post_event(provider_reply(*mia, "B"))
    await server.post_event(provider_reply(*leo, "not for a parent"))
    await server.post_event(provider_reply(*own, "C"))
    await server.post_event(provider_reply(*mia, "D"))

    again = await Client.connect(server, token, LEGACY_WS)
    op = await again.subscribe(MESSAGES, {"afterSeq": str(last_seq)})
    missed = [await _event(again, op) for _ in range(3)]
    assert [body for _seq, body in missed] == ["B", "C", "D"]
    assert [seq for seq, _body in missed] == sorted(seq for seq, _body in missed)
    assert missed[0][0] > last_seq
    await server.post_event(provider_reply(*own, "E"))
    assert (await _event(again, op))[1] == "E"  # then live, nothing replayed twice


async def test_an_after_seq_that_is_not_one_is_refused(start_server: StartServer) -> None:
    server = await start_server()
    client = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    op = await client.subscribe(MESSAGES, {"afterSeq": "12abc"})
    message = await client.next(op)
    assert message["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await client.next(op))["type"] == "complete"


async def test_no_gap_and_no_duplicate_when_resuming_during_a_burst(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    """Events keep coming while the client drops and resumes again and again."""
    server = await start_server()
    token = await server.token(ACCOUNTS["alex"])
    mia = await thread_of(live_db.url, people.mia)
    total = 40
    bodies = [f"burst-{n}" for n in range(total)]

    client = await Client.connect(server, token)
    op = await client.subscribe(MESSAGES, after=await server.seq())
    await server.post_event(provider_reply(*mia, "start"))
    last_seq, _ = await _event(client, op)

    async def writer() -> None:
        for body in bodies:
            await server.post_event(provider_reply(*mia, body))

    writing = asyncio.create_task(writer())
    received: list[str] = []
    protocols = [TRANSPORT_WS, LEGACY_WS]
    reconnects = 0
    while len(received) < total:
        for _ in range(3):  # take a few, then drop the connection mid-stream
            if len(received) == total:
                break
            seq, body = await _event(client, op, within=20)
            assert seq > last_seq
            last_seq = seq
            received.append(body)
        await client.close()
        reconnects += 1
        client = await Client.connect(server, token, protocols[reconnects % 2])
        op = await client.subscribe(MESSAGES, {"afterSeq": str(last_seq)})
    await asyncio.wait_for(writing, 30)
    assert received == bodies
    assert reconnects >= total // 3


async def _age(database_url: str, through: int, age: timedelta) -> None:
    """Make the outbox events up to `through` look `age` old (the server prunes them)."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            await session.execute(
                update(m.OutboxEvent)
                .where(m.OutboxEvent.seq <= through)
                .values(created_at=datetime.now(UTC) - age)
            )
            await session.commit()
    finally:
        await engine.dispose()


async def _watermark(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return await pruned_through(session)
    finally:
        await engine.dispose()


async def _window_passed(client: Client, op: str) -> dict[str, Any]:
    """The typed error that ends a resume from below the window; `complete` must follow."""
    message = await client.next(op)
    assert message["type"] in ("next", "data"), message
    assert message["payload"]["data"] is None
    (error,) = message["payload"]["errors"]
    assert (await client.next(op))["type"] == "complete"
    assert "subscribe again without afterSeq" in error["message"]
    extensions: dict[str, Any] = error["extensions"]
    return extensions


async def test_a_resume_from_before_the_pruned_events_is_told_to_refetch(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    """The server's own pruning job removes events older than the retention; resuming from
    below what it pruned ends with RESUME_WINDOW_PASSED, from at or above it replays."""
    server = await start_server(REALTIME_PRUNE_INTERVAL_SECONDS="0.2")
    token = await server.token(ACCOUNTS["alex"])
    mia = await thread_of(live_db.url, people.mia)

    first = await Client.connect(server, token)
    op = await first.subscribe(MESSAGES, after=await server.seq())
    await server.post_event(provider_reply(*mia, "A"))
    await server.post_event(provider_reply(*mia, "B"))
    seq_a, _ = await _event(first, op)
    seq_b, _ = await _event(first, op)
    await first.close()

    # A (and everything before it) is now 100 hours old: past the 72-hour retention.
    await _age(live_db.url, seq_a, timedelta(hours=100))

    async def pruned() -> bool:
        return await _watermark(live_db.url) >= seq_a

    await eventually(pruned)
    assert await _watermark(live_db.url) == seq_a  # B, recent, stays

    for protocol in (TRANSPORT_WS, LEGACY_WS):
        late = await Client.connect(server, token, protocol)
        for query, after in ((MESSAGES, seq_a - 1), (MESSAGES, 0), (NOTIFICATIONS, 0)):
            op = await late.subscribe(query, {"afterSeq": str(after)})
            extensions = await _window_passed(late, op)
            assert extensions == {"code": "RESUME_WINDOW_PASSED", "prunedThrough": str(seq_a)}
        await late.close()

    again = await Client.connect(server, token, LEGACY_WS)
    op = await again.subscribe(MESSAGES, {"afterSeq": str(seq_a)})
    assert await _event(again, op) == (seq_b, "B")  # at the watermark: replayed as before
    await server.post_event(provider_reply(*mia, "C"))
    assert (await _event(again, op))[1] == "C"  # then live
