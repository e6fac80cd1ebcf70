"""Metrics of real time, scraped from a real server: each event sent to a subscriber is
counted in `portal_subscription_events_delivered_total`, by kind; one it may not read is not."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Database
from tests.realtime.conftest import StartServer
from tests.realtime.harness import (
    ACCOUNTS,
    Client,
    Family,
    Server,
    provider_reply,
    thread_of,
)

MESSAGES = """subscription($afterSeq: ID) {
  messageReceived(afterSeq: $afterSeq) { seq message { body } }
}"""
DELIVERED = "portal_subscription_events_delivered_total"


async def delivered(server: Server, kind: str) -> float:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{server.url}/metrics", timeout=10)
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == DELIVERED and sample.labels.get("kind") == kind:
                return float(sample.value)
    return 0.0


async def test_each_event_sent_to_a_subscriber_is_counted(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    server = await start_server()
    assert await delivered(server, "MESSAGE_RECEIVED") == 0
    alex = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    op = await alex.subscribe(MESSAGES, after=await server.seq())
    mia, leo = [await thread_of(live_db.url, p) for p in (people.mia, people.leo)]

    await server.post_event(provider_reply(*mia, "m0"))
    assert (await alex.data(op))["messageReceived"]["message"]["body"] == "m0"
    assert await delivered(server, "MESSAGE_RECEIVED") == 1

    # Leo's messages are confidential from his parent: not sent, not counted. Events arrive
    # in commit order, so once m1 is in, the one for Leo before it was not sent.
    await server.post_event(provider_reply(*leo, "l1"))
    await server.post_event(provider_reply(*mia, "m1"))
    assert (await alex.data(op))["messageReceived"]["message"]["body"] == "m1"
    assert await delivered(server, "MESSAGE_RECEIVED") == 2
    assert await delivered(server, "RESULT_RELEASED") == 0
    await alex.close()
