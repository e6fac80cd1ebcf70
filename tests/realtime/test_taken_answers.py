"""One event to many alike subscriptions (issue 12): the first executes the payload, and each
of the others sends the answer it takes straight to its client, its audit written first, not
through graphql-core's per-event executor, strawberry's per-result pipeline and the socket's
result loop (schema/subscription.py, `_payloads`; portal/sockets.py, `_Sender`).

In process: `Sockets` over real services and a real database, connections driven message by
message (as tests/realtime/test_socket_protocol.py does), the event published on the
in-process broker."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator, MutableMapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from domain.events import EventKind
from domain.realtime import BusEvent
from persistence import models as m
from portal.api import schema
from portal.errors import PortalErrors
from portal.sockets import LEGACY_WS, TRANSPORT_WS, Sockets
from runtime.realtime import sharing
from runtime.services import Services, build_services
from schema.subscription import SharedEventExecution
from tests.conftest import Database, patient_gid, settings_for
from tests.realtime.harness import ACCOUNTS, Family, token_for

WATCH = """subscription Alike($patientId: ID) {
  messageReceived(patientId: $patientId) { seq message { body } thread { patient { id } } }
}"""


class Peer:
    """The client's end of an ASGI WebSocket connection to `Sockets`; `broken`: its
    transport fails every send, as a socket the client dropped; `held`: each send waits
    until it is set, as a client that does not read (its transport paused)."""

    def __init__(self, app: Sockets, protocol: str, request_id: str) -> None:
        self.protocol = protocol
        self.broken = False
        self.held: asyncio.Event | None = None
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        scope = {
            "type": "websocket",
            "path": "/graphql",
            "headers": [],
            "subprotocols": [protocol],
            "client": ("127.0.0.1", 5000),
            "state": {"request_id": request_id},
        }
        self.inbox.put_nowait({"type": "websocket.connect"})
        self.task = asyncio.ensure_future(app(scope, self.inbox.get, self._send))

    async def _send(self, message: MutableMapping[str, Any]) -> None:
        if self.broken and message["type"] == "websocket.send":
            raise OSError("the client is gone")  # as uvicorn's ClientDisconnected
        if self.held is not None and message["type"] == "websocket.send":
            await self.held.wait()
        await self.sent.put(dict(message))
        if message["type"] == "websocket.close":
            self.inbox.put_nowait({"type": "websocket.disconnect", "code": message["code"]})

    def send(self, message: object) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "text": json.dumps(message)})

    async def message(self, within: float = 10) -> dict[str, Any]:
        sent = await asyncio.wait_for(self.sent.get(), within)
        assert sent["type"] == "websocket.send", sent
        decoded: dict[str, Any] = json.loads(sent["text"])
        return decoded

    async def subscribe(self, authorization: str, op_id: str, variables: object) -> None:
        self.send({"type": "connection_init", "payload": {"authorization": authorization}})
        assert (await asyncio.wait_for(self.sent.get(), 10))["type"] == "websocket.accept"
        assert (await self.message())["type"] == "connection_ack"
        start = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        payload = {"query": WATCH, "variables": variables}
        self.send({"type": start, "id": op_id, "payload": payload})

    async def end(self) -> None:
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, 5)


@pytest.fixture
async def services(live_db: Database) -> AsyncIterator[Services]:
    built = build_services(settings_for(live_db.url))  # audit: only durable writes count
    yield built
    await built.engine.dispose()


async def _message_of(services: Services, patient_id: str) -> str:
    async with services.session() as session:
        found = await session.scalar(
            select(m.Message.id)
            .join(m.MessageThread, m.MessageThread.id == m.Message.thread_id)
            .where(m.MessageThread.patient_id == patient_id)
            .order_by(m.Message.id)
            .limit(1)
        )
    assert found is not None
    return str(found)


async def _delivery_rows(services: Services) -> list[str | None]:
    """The connections (request ids) of the deliveries' audit rows."""
    async with services.session() as session:
        stmt = select(m.AuditEvent.request_id).where(
            m.AuditEvent.operation == "Alike", m.AuditEvent.action == "read"
        )
        return list((await session.scalars(stmt)).all())


async def test_alike_subscriptions_execute_once_and_each_sends_its_own_audited_frame(
    services: Services,
    people: Family,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Seven connections of one account ask the same document with the same variables,
    both protocols. One event: graphql-core executes it once and strawberry's per-result
    pipeline runs once (both ran for each subscription before); every client gets the whole
    answer under its own operation id, in its protocol's message; each delivery has its own
    audit row; a socket the client dropped, or one that does not take its frame, holds
    nobody back; a connection whose token has expired gets nothing of it."""
    executions: list[object] = []
    per_result: list[object] = []
    execute = SharedEventExecution.execute_operation
    on_stream_result = PortalErrors.on_stream_result

    def counted_execute(self: SharedEventExecution, serially: bool | None = None) -> Any:
        executions.append(self)
        return execute(self, serially)

    def counted_result(self: PortalErrors, result: Any) -> Iterator[None]:
        per_result.append(result)
        yield from on_stream_result(self, result)

    monkeypatch.setattr(SharedEventExecution, "execute_operation", counted_execute)
    # A view is shared for a second; a loaded machine may take longer to reach every
    # delivery, which would then load (and execute) for itself.
    monkeypatch.setattr(sharing, "FRESH", timedelta(minutes=1))
    monkeypatch.setattr(PortalErrors, "on_stream_result", counted_result)

    app = Sockets(services, schema)
    authorization = f"Bearer {token_for(ACCOUNTS['alex'])}"  # Mia's mother
    variables = {"patientId": patient_gid(people.mia)}
    protocols = [TRANSPORT_WS] * 5 + [LEGACY_WS] * 2
    peers = [Peer(app, protocol, f"conn-{n}") for n, protocol in enumerate(protocols)]
    for n, peer in enumerate(peers):
        await peer.subscribe(authorization, f"op-{n}", variables)
    expiring = Peer(app, TRANSPORT_WS, "conn-expiring")
    short = token_for(ACCOUNTS["alex"], ttl=timedelta(seconds=3))
    await expiring.subscribe(f"Bearer {short}", "op-x", variables)
    dropped = peers[3]
    # The short token expires: UNAUTHENTICATED, then complete; it gets nothing after.
    ended = await expiring.message()
    assert ended["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in ended["payload"]["errors"]] == ["UNAUTHENTICATED"]
    assert await expiring.message() == {"id": "op-x", "type": "complete"}
    dropped.broken = True
    slow = peers[5]
    slow.held = asyncio.Event()
    executions.clear()  # the subscriptions' start
    per_result.clear()

    message_id = await _message_of(services, people.mia)
    event = BusEvent(
        10**9, EventKind.MESSAGE_RECEIVED, message_id, people.mia, committed=time.perf_counter()
    )
    await services.realtime.broker.publish([event])
    answers = {
        n: await peer.message() for n, peer in enumerate(peers) if peer not in (dropped, slow)
    }
    slow.held.set()  # the others did not wait for it; its frame was not lost
    answers[5] = await slow.message()

    data = answers[0]["payload"]["data"]
    assert data["messageReceived"]["seq"] == str(10**9)
    assert data["messageReceived"]["thread"]["patient"]["id"] == patient_gid(people.mia)
    for n, answer in answers.items():
        kind = "next" if protocols[n] == TRANSPORT_WS else "data"
        assert answer == {"id": f"op-{n}", "type": kind, "payload": {"data": data}}
    assert len(executions) == 1  # each subscription went through graphql-core before
    assert len(per_result) == 1  # and through strawberry's per-result hooks

    with pytest.raises(TimeoutError):
        await expiring.message(within=0.3)

    # One row per delivery, its connection's: the dropped one's too (written before its
    # send, as every delivery's is), none for the expired one.
    rows = await _delivery_rows(services)
    assert sorted(str(r) for r in rows) == sorted(f"conn-{n}" for n in range(len(peers)))
    for peer in [*peers, expiring]:
        await peer.end()
