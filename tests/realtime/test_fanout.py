"""One event reaching many subscriptions at once (issue 12): their audit goes in one INSERT,
written before any of them is sent (runtime/realtime/sharing.py, `Gathering`), and an
answer they share is encoded once (portal/websocket.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from persistence.db import create_engine
from portal import websocket
from runtime.context import SocketContext, SocketSession
from runtime.services import build_services
from schema import subscription
from tests.conftest import NOW, Database, patient_gid, settings_for
from tests.realtime.conftest import StartServer
from tests.realtime.harness import ACCOUNTS, Client, Family, provider_reply, thread_of
from tests.realtime.test_ending import _ended, _jordan_follows_alex, _set_grant

WATCH = """subscription FanOut($patientId: ID, $afterSeq: ID) {
  messageReceived(patientId: $patientId, afterSeq: $afterSeq) { seq message { body } }
}"""
SUBSCRIBERS = 30
EVENTS = 3


async def test_one_audit_insert_for_an_events_deliveries_to_one_viewer(
    live_db: Database, start_server: StartServer, people: Family
) -> None:
    """30 connections of one account following Mia: each event's 30 delivery rows are
    written by one statement (one transaction: one `xmin` on PostgreSQL), not one per
    delivery or per group that happened to finish together."""
    if live_db.backend != "postgres":
        pytest.skip("statements are told apart by their transaction id (PostgreSQL)")
    server = await start_server(
        AUDIT_FLUSH_SECONDS="3600", WS_MAX_CONNECTIONS_PER_ACCOUNT=str(SUBSCRIBERS)
    )
    since = await server.seq()
    token = await server.token(ACCOUNTS["alex"])  # Mia's mother
    variables = {"patientId": patient_gid(people.mia)}
    clients = await asyncio.gather(*(Client.connect(server, token) for _ in range(SUBSCRIBERS)))
    ops = [await c.subscribe(WATCH, variables, after=since) for c in clients]
    thread, provider = await thread_of(live_db.url, people.mia)
    for n in range(EVENTS):
        await server.post_event(provider_reply(thread, provider, f"fan {n}"))
        got = await asyncio.gather(*(c.data(op) for c, op in zip(clients, ops, strict=True)))
        assert {g["messageReceived"]["message"]["body"] for g in got} == {f"fan {n}"}
    engine = create_engine(live_db.url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT xmin::text, count(*) FROM audit_events "
                        "WHERE operation = 'FanOut' AND action = 'read' GROUP BY 1"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert sorted(count for _, count in rows) == [SUBSCRIBERS] * EVENTS


async def test_an_answer_sent_to_many_subscriptions_is_encoded_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same data object (one execution shared by alike subscriptions) is encoded once;
    each frame still carries its own operation id, and is the JSON strawberry would send."""
    encoded: list[object] = []

    def counting(data: object) -> bytes:
        encoded.append(data)
        return orjson.dumps(data)

    monkeypatch.setattr(websocket, "encode_json", counting)
    data = {"messageReceived": {"seq": "7", "message": {"body": 'hé "quoted"'}}}
    frames = [
        websocket.frame_of({"id": f"op-{n}", "type": "next", "payload": {"data": data}})
        for n in range(3)
    ]
    assert encoded.count(data) == 1  # the operation ids are encoded on their own
    for n, frame in enumerate(frames):
        assert orjson.loads(frame) == {"id": f"op-{n}", "type": "next", "payload": {"data": data}}
    other = {"messageReceived": None}
    frame = websocket.frame_of({"id": "op-9", "type": "next", "payload": {"data": other}})
    assert orjson.loads(frame)["payload"] == {"data": other}


async def test_a_revoked_subscriber_among_many_gets_nothing_and_holds_nobody_back(
    live_db: Database, start_server: StartServer, people: Family
) -> None:
    """Alex follows her own messages on ten connections, Jordan (her spouse, by a grant)
    on ten more. The grant is revoked: at the next event Jordan's streams end FORBIDDEN
    with nothing of it, Alex's all get it, and the audit has her ten deliveries, none of
    his."""
    grant = await _jordan_follows_alex(live_db.url)
    server = await start_server(AUDIT_FLUSH_SECONDS="3600", WS_MAX_CONNECTIONS_PER_ACCOUNT="10")
    since = await server.seq()
    variables = {"patientId": patient_gid(people.alex)}
    watchers = []
    for account in ("alex", "jordan"):
        token = await server.token(ACCOUNTS[account])
        for client in await asyncio.gather(*(Client.connect(server, token) for _ in range(10))):
            watchers.append(
                (account, client, await client.subscribe(WATCH, variables, after=since))
            )
    thread, provider = await thread_of(live_db.url, people.alex)
    await server.post_event(provider_reply(thread, provider, "before"))
    for _, client, op in watchers:
        assert (await client.data(op))["messageReceived"]["message"]["body"] == "before"

    await _set_grant(live_db.url, grant, status="revoked")
    await server.post_event(provider_reply(thread, provider, "after"))
    for account, client, op in watchers:
        if account == "alex":
            assert (await client.data(op))["messageReceived"]["message"]["body"] == "after"
        else:
            ended = await _ended(client, op)
            assert ended == {"code": "FORBIDDEN", "reason": "GRANT_NOT_ACTIVE", "area": "MESSAGES"}
    engine = create_engine(live_db.url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT account_id, count(*) FROM audit_events WHERE operation = "
                        "'FanOut' AND action = 'read' GROUP BY 1"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert dict(rows) == {ACCOUNTS["alex"]: 20, ACCOUNTS["jordan"]: 10}  # his: "before" only


async def test_an_events_deliveries_are_all_sent_before_any_ones_bookkeeping() -> None:
    """The deliveries of one event are released together (their audit written in one
    statement); each is sent, and only once all are sent does each one's stream do its
    bookkeeping (the gathering, the audit queue, the wait for the next event), so the last
    send does not wait for every other subscription's bookkeeping as well."""
    services = build_services(settings_for("sqlite+aiosqlite://"))  # no query is made
    released = asyncio.Event()  # the event's audit is written: its deliveries may go
    order: list[tuple[str, int]] = []

    def stream_of(n: int) -> Any:
        async def deliveries(*_args: object) -> AsyncGenerator[int, None]:
            await released.wait()
            yield n
            order.append(("bookkeeping", n))
            await asyncio.Event().wait()  # idle until the next event

        return deliveries

    async def subscription_task(n: int) -> None:
        context = SocketContext(services=services, request=None, request_id=f"c{n}", now=NOW)
        context.socket = SocketSession("acc-1", None, NOW + timedelta(hours=1))
        info = SimpleNamespace(
            context=context, operation=SimpleNamespace(name=None), field_name="messageReceived"
        )
        payloads = subscription._payloads(info, stream_of(n), None, None, lambda d: d)  # type: ignore[arg-type]
        delivered = await anext(payloads)
        order.append(("sent", delivered))  # strawberry sends it here
        await anext(payloads)  # the next event is asked for

    tasks = [asyncio.create_task(subscription_task(n)) for n in range(5)]
    await asyncio.sleep(0)
    released.set()
    for _ in range(20):
        await asyncio.sleep(0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await services.engine.dispose()
    assert [what for what, _ in order] == ["sent"] * 5 + ["bookkeeping"] * 5
    assert sorted(n for what, n in order if what == "sent") == list(range(5))
