"""Resume after a disconnect: what was missed, in order, from the outbox, then live events,
with no gap and no duplicate at the seam."""

from __future__ import annotations

import asyncio

from tests.conftest import Database
from tests.realtime.conftest import StartServer
from tests.realtime.harness import (
    ACCOUNTS,
    LEGACY_WS,
    TRANSPORT_WS,
    Client,
    Family,
    provider_reply,
    thread_of,
    token_for,
)

MESSAGES = """subscription($afterSeq: ID) {
  messageReceived(afterSeq: $afterSeq) { seq message { body } }
}"""


async def _event(client: Client, op: str, within: float = 10.0) -> tuple[int, str]:
    data = (await client.data(op, within))["messageReceived"]
    return int(data["seq"]), data["message"]["body"]


async def test_a_reconnecting_client_gets_what_it_missed_then_live_events(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    server = await start_server()
    token = token_for(ACCOUNTS["alex"])
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
    client = await Client.connect(server, token_for(ACCOUNTS["alex"]))
    op = await client.subscribe(MESSAGES, {"afterSeq": "12abc"})
    message = await client.next(op)
    assert message["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await client.next(op))["type"] == "complete"


async def test_no_gap_and_no_duplicate_when_resuming_during_a_burst(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    """Events keep coming while the client drops and resumes again and again."""
    server = await start_server()
    token = token_for(ACCOUNTS["alex"])
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
