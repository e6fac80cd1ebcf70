"""Both GraphQL over WebSocket protocols as portal/sockets.py speaks them, message by message,
on an in-process ASGI connection: the handshake, the protocols' own messages and close
codes (what strawberry's handlers did; the served tests in test_sockets.py cover
authentication, caps, malformed messages and events end to end)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, MutableMapping
from datetime import timedelta
from typing import Any

import pytest

from portal.api import schema
from portal.sockets import LEGACY_WS, TRANSPORT_WS, Sockets, TransportSocket
from runtime.context import Context, SocketContext
from runtime.services import Services, build_services
from tests.conftest import ACCOUNT_IDS, ALEX, NOW, Database, settings_for
from tests.realtime.harness import token_for

MESSAGES = "subscription { messageReceived { seq } }"


@pytest.fixture
async def services() -> AsyncIterator[Services]:
    built = build_services(settings_for("sqlite+aiosqlite://"))  # no query is made
    yield built
    await built.engine.dispose()


@pytest.fixture
async def signed(seeded_db: Database) -> AsyncIterator[tuple[Services, str]]:
    built = build_services(settings_for(seeded_db.url))
    yield built, f"Bearer {token_for(ACCOUNT_IDS[ALEX])}"
    await built.engine.dispose()


class Peer:
    """The client's end of an ASGI WebSocket connection to `Sockets`."""

    def __init__(self, app: Sockets, subprotocols: list[str], headers: list[Any]) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        scope = {
            "type": "websocket",
            "path": "/graphql",
            "headers": headers,
            "subprotocols": subprotocols,
            "client": ("127.0.0.1", 5000),
            "state": {"request_id": "test"},
        }
        self.inbox.put_nowait({"type": "websocket.connect"})
        self.task = asyncio.ensure_future(app(scope, self.inbox.get, self._send))

    async def _send(self, message: MutableMapping[str, Any]) -> None:
        await self.sent.put(dict(message))
        if message["type"] == "websocket.close":  # as uvicorn does
            self.inbox.put_nowait({"type": "websocket.disconnect", "code": message["code"]})

    def send(self, message: object) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "text": json.dumps(message)})

    async def receive(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.sent.get(), 5)

    async def message(self) -> dict[str, Any]:
        sent = await self.receive()
        assert sent["type"] == "websocket.send", sent
        decoded: dict[str, Any] = json.loads(sent["text"])
        return decoded

    async def closed(self) -> tuple[int, str]:
        sent = await self.receive()
        assert sent["type"] == "websocket.close", sent
        await asyncio.wait_for(self.task, 5)  # the connection's handling has ended
        return sent["code"], sent.get("reason", "")

    async def accepted(self) -> Peer:
        assert (await self.receive())["type"] == "websocket.accept"
        return self

    async def end(self) -> None:
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, 5)


async def open_peer(app: Sockets, protocol: str | None = TRANSPORT_WS, **headers: str) -> Peer:
    raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    peer = Peer(app, [protocol] if protocol else [], raw)
    if protocol is not None:
        await peer.accepted()
    return peer


async def test_a_client_speaking_neither_protocol_is_accepted_then_closed_4406(
    services: Services,
) -> None:
    peer = await open_peer(Sockets(services, schema), None)
    accept = await peer.receive()
    assert accept == {"type": "websocket.accept", "subprotocol": None}
    assert await peer.closed() == (4406, "Subprotocol not acceptable")


async def test_a_page_of_another_origin_is_refused_unless_allowed(services: Services) -> None:
    app = Sockets(services, schema, allowed_origins=["https://app.example.org"])
    refused = Peer(app, [TRANSPORT_WS], [(b"origin", b"https://elsewhere.example")])
    assert await refused.receive() == {"type": "websocket.close", "code": 1008}  # 403
    allowed = await open_peer(app, origin="https://app.example.org")
    same = await open_peer(app, origin="http://portal.test", host="portal.test")
    for peer in (allowed, same):
        await peer.end()


async def test_graphql_transport_ws_closes_4408_without_connection_init_in_time(
    services: Services,
) -> None:
    app = Sockets(services, schema, init_timeout=timedelta(seconds=0.05))
    peer = await open_peer(app)
    code, reason = await peer.closed()
    assert (code, reason) == (4408, "Connection initialisation timeout")


async def test_graphql_transport_ws_messages_and_their_close_codes(services: Services) -> None:
    app = Sockets(services, schema)
    peer = await open_peer(app)
    peer.send({"type": "ping"})
    assert await peer.message() == {"type": "pong"}
    peer.send({"type": "pong"})  # answered by nothing
    peer.send({"type": "subscribe", "id": "1", "payload": {"query": MESSAGES}})
    assert await peer.closed() == (4401, "Unauthorized")  # before connection_init

    for message, expected in (
        ({"type": "hello"}, (4400, "Unknown message type: hello")),
        ({"type": "complete"}, (4400, "Failed to parse message")),
        ({"type": "connection_init", "payload": [1]}, (4400, "Invalid connection init payload")),
        ([1], (4400, "WebSocket message must be valid JSON")),
    ):
        peer = await open_peer(app)
        peer.send(message)
        assert await peer.closed() == expected, message
    peer = await open_peer(app)
    peer.inbox.put_nowait({"type": "websocket.receive", "bytes": b"{}"})
    assert await peer.closed() == (4400, "WebSocket message type must be text")


async def test_legacy_graphql_ws_messages_and_their_close_codes(services: Services) -> None:
    app = Sockets(services, schema)
    peer = await open_peer(app, LEGACY_WS)
    peer.send([1])  # ignored, as anything the legacy protocol cannot read
    peer.send({"type": "start", "id": "1", "payload": {"query": MESSAGES}})
    assert await peer.closed() == (4401, "Unauthorized")  # before connection_init
    peer = await open_peer(app, LEGACY_WS)
    peer.send({"type": "connection_terminate"})
    assert await peer.closed() == (1000, "")
    peer = await open_peer(app, LEGACY_WS)
    peer.send({"type": "connection_init", "payload": [1]})
    assert await peer.message() == {"type": "connection_error"}
    assert await peer.closed() == (1000, "")
    peer = await open_peer(app, LEGACY_WS)
    peer.inbox.put_nowait({"type": "websocket.receive", "bytes": b"{}"})
    assert await peer.closed() == (1002, "WebSocket message type must be text")


async def test_graphql_transport_ws_subscriptions_by_id(
    signed: tuple[Services, str],
) -> None:
    """An id in use closes 4409; `complete` ends its operation and frees the id; a second
    `connection_init` closes 4429; a refused one closes with the refusal's code."""
    services, authorization = signed
    app = Sockets(services, schema)
    peer = await open_peer(app)
    peer.send({"type": "connection_init", "payload": {"authorization": authorization}})
    ack = await peer.message()
    assert ack["type"] == "connection_ack"
    assert ack["payload"]["expiresAt"].endswith("Z")
    peer.send({"type": "subscribe", "id": "a", "payload": {"query": MESSAGES}})
    peer.send({"type": "complete", "id": "a"})
    peer.send({"type": "subscribe", "id": "a", "payload": {"query": MESSAGES}})  # free again
    peer.send({"type": "ping"})
    assert await peer.message() == {"type": "pong"}
    peer.send({"type": "subscribe", "id": "a", "payload": {"query": MESSAGES}})
    assert await peer.closed() == (4409, "Subscriber for a already exists")

    peer = await open_peer(app)
    peer.send({"type": "connection_init", "payload": {"authorization": authorization}})
    assert (await peer.message())["type"] == "connection_ack"
    peer.send({"type": "connection_init", "payload": {"authorization": authorization}})
    assert await peer.closed() == (4429, "Too many initialisation requests")

    peer = await open_peer(app)
    peer.send({"type": "connection_init", "payload": {"authorization": "Bearer nope"}})
    code, reason = await peer.closed()
    assert code == 4403
    assert reason.startswith("Forbidden")
    assert services.realtime.sockets.open(ACCOUNT_IDS[ALEX])  # every connection released


async def test_legacy_graphql_ws_stop_completes_the_operation(
    signed: tuple[Services, str],
) -> None:
    services, authorization = signed
    peer = await open_peer(Sockets(services, schema), LEGACY_WS)
    peer.send({"type": "connection_init", "payload": {"authorization": authorization}})
    assert (await peer.message())["type"] == "connection_ack"
    peer.send({"type": "start", "id": "s", "payload": {"query": MESSAGES}})
    await asyncio.sleep(0.1)  # started (one stopped before it ever ran ends without a word)
    peer.send({"type": "stop", "id": "s"})
    assert await peer.message() == {"type": "complete", "id": "s"}
    peer.send({"type": "connection_init", "payload": {"authorization": "Bearer nope"}})
    refused = await peer.message()
    assert refused["type"] == "connection_error"
    assert refused["payload"]["code"] == 4403
    assert await peer.closed() == (1011, "")


async def test_an_initialised_connection_keeps_no_timer(signed: tuple[Services, str]) -> None:
    """The `connection_init` deadline is a timer (no task), dropped once the message came."""
    services, authorization = signed
    context = SocketContext.of(Context(services=services, request=None, request_id="t", now=NOW))
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    socket = TransportSocket(Sockets(services, schema), context, send)
    socket.started()
    assert isinstance(socket.init_timer, asyncio.TimerHandle)
    message = {"type": "connection_init", "payload": {"authorization": authorization}}
    await socket.handle(message)
    assert json.loads(sent[0]["text"])["type"] == "connection_ack"
    assert socket.init_timer is None
    await socket.shutdown()
