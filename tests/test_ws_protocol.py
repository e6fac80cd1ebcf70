"""uvicorn's WebSocket protocol as `portal serve` runs it (portal/ws_protocol.py): lighter
per-connection state, the same behaviour (issue 12, idle memory per subscription)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from portal import cli
from portal.ws_protocol import PROTOCOL, Flag, Mailbox, PortalWebSocketProtocol


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept", "subprotocol": "graphql-transport-ws"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        await send({"type": "websocket.send", "text": message["text"].upper()})


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_connection_keeps_no_handshake_and_works_as_uvicorns() -> None:
    config = Config(app=_echo, ws=PROTOCOL, ws_per_message_deflate=False, lifespan="off")
    config.load()
    assert config.ws_protocol_class is PortalWebSocketProtocol
    state = ServerState()
    protocol = PortalWebSocketProtocol(config=config, server_state=state, app_state={})
    transport = _Transport()
    protocol.connection_made(transport)
    client = ClientProtocol(
        parse_uri("ws://127.0.0.1/graphql"), subprotocols=[Subprotocol("graphql-transport-ws")]
    )
    client.send_request(client.connect())
    protocol.data_received(b"".join(client.data_to_send()))
    await _settle()
    client.receive_data(bytes(transport.written))
    transport.written.clear()
    response = client.events_received()[0]
    assert isinstance(response, Response)
    assert response.status_code == 101
    assert response.headers["Sec-WebSocket-Protocol"] == "graphql-transport-ws"
    # The upgrade request and response (and their headers) are not kept for the connection's life.
    assert protocol.request is None
    assert protocol.response is None
    # Nor does `websockets`' parser, whose generator frame held the request.
    parser = protocol.conn.parser
    held = [v for v in parser.gi_frame.f_locals.values() if isinstance(v, Request)]
    assert held == []
    assert isinstance(protocol.queue, Mailbox)
    assert isinstance(protocol.writable, Flag)

    for text in ("ping", "again"):
        client.send_text(text.encode())
        protocol.data_received(b"".join(client.data_to_send()))
        await _settle()
        client.receive_data(bytes(transport.written))
        transport.written.clear()
        frames = [e for e in client.events_received() if isinstance(e, Frame)]
        assert [(f.opcode, bytes(f.data)) for f in frames] == [(Opcode.TEXT, text.upper().encode())]

    client.send_close(1000)
    protocol.data_received(b"".join(client.data_to_send()))
    await _settle()
    assert not state.tasks  # the app read the disconnect and returned
    protocol.connection_lost(None)
    assert transport.closed


def test_portal_serve_runs_uvicorn_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: seen.update(kwargs))
    assert cli.cmd_serve(cli.build_parser().parse_args(["serve"])) == 0
    assert seen["ws"] == PROTOCOL
    assert seen["ws_per_message_deflate"] is False


async def test_the_mailbox_is_a_fifo_whose_reader_waits() -> None:
    box = Mailbox()
    assert box.empty()
    reader = asyncio.create_task(box.get())
    await _settle()
    assert not reader.done()
    box.put_nowait({"type": "websocket.connect"})
    box.put_nowait({"type": "websocket.disconnect", "code": 1000})
    assert await reader == {"type": "websocket.connect"}
    assert await box.get() == {"type": "websocket.disconnect", "code": 1000}
    assert box.empty()


async def test_a_woken_reader_cancelled_hands_the_item_to_the_next() -> None:
    box = Mailbox()
    first = asyncio.create_task(box.get())
    second = asyncio.create_task(box.get())
    await _settle()
    box.put_nowait({"type": "websocket.connect"})
    first.cancel()  # woken, then cancelled before it ran
    assert await asyncio.wait_for(second, 1) == {"type": "websocket.connect"}
    with pytest.raises(asyncio.CancelledError):
        await first
    assert box.empty()


async def test_the_flag_lets_waiters_through_once_set() -> None:
    flag = Flag()
    assert not flag.is_set()
    waiters = [asyncio.create_task(flag.wait()) for _ in range(2)]
    await _settle()
    assert not any(w.done() for w in waiters)
    flag.set()
    assert await asyncio.gather(*waiters) == [True, True]
    assert await flag.wait() is True  # set: no wait
    flag.clear()
    late = asyncio.create_task(flag.wait())
    await _settle()
    assert not late.done()
    late.cancel()
    await _settle()
    flag.set()
    assert flag.is_set()
