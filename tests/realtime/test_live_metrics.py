"""Metrics of real time, scraped from a real server: each event sent to a subscriber is
counted in `portal_subscription_events_delivered_total`, by kind, and timed from its commit
to its send in `portal_subscription_delivery_seconds`; one it may not read is neither."""

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
SENT_AFTER_COMMIT = "portal_subscription_delivery_seconds"


async def delivered(server: Server, kind: str) -> float:
    return await sample(server, DELIVERED, {"kind": kind})


async def sample(server: Server, name: str, labels: dict[str, str] | None = None) -> float:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{server.url}/metrics", timeout=10)
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        for found in family.samples:
            if found.name == name and all(
                found.labels.get(k) == v for k, v in (labels or {}).items()
            ):
                return float(found.value)
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
    # m0 may have come from the outbox (the subscription registering as it committed).
    sent = await sample(server, SENT_AFTER_COMMIT + "_count")

    # Leo's messages are confidential from his parent: not sent, not counted. Events arrive
    # in commit order, so once m1 is in, the one for Leo before it was not sent.
    await server.post_event(provider_reply(*leo, "l1"))
    await server.post_event(provider_reply(*mia, "m1"))
    assert (await alex.data(op))["messageReceived"]["message"]["body"] == "m1"
    assert await delivered(server, "MESSAGE_RECEIVED") == 2
    assert await delivered(server, "RESULT_RELEASED") == 0
    # The time from m1's commit to its send (Leo's, not sent, is not timed).
    assert await sample(server, SENT_AFTER_COMMIT + "_count") == sent + 1
    assert 0 < await sample(server, SENT_AFTER_COMMIT + "_sum") < 10
    await alex.close()
