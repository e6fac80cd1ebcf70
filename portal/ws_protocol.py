"""uvicorn's WebSocket protocol (`websockets-sansio`), holding less for each open connection.

An idle subscription is mostly its connection's objects (docs/realtime.md), so the parts
of uvicorn's protocol that are heavy for what they do are replaced; the protocol itself
(the handshake, framing, keepalive pings, close codes) is uvicorn's own, unchanged:

- the ASGI receive queue: an `asyncio.Queue` holds three deques and an `Event` with a
  deque of its own (about 3 KB) for what is, on an idle connection, an empty mailbox
  with one reader waiting: here a list and at most a future or two;
- the "socket writable" flag: an `asyncio.Event` (a deque and a dict) where a flag and
  a list of waiters do;
- the upgrade request and the response (with their headers) that uvicorn keeps after the
  handshake, and the request `websockets`' parser keeps: dropped once the response is sent
  (the ASGI scope keeps the headers).

`portal serve` runs uvicorn with `ws="portal.ws_protocol:PortalWebSocketProtocol"`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import Protocol, State
from websockets.server import ServerProtocol

if TYPE_CHECKING:
    from uvicorn._types import ASGIReceiveEvent, ASGISendEvent

PROTOCOL = "portal.ws_protocol:PortalWebSocketProtocol"


class Mailbox:
    """What `asyncio.Queue` does for uvicorn's receive queue (unbounded: `put_nowait`,
    `get`, `empty`), in a list and the futures of the readers waiting."""

    __slots__ = ("_items", "_waiters")

    def __init__(self) -> None:
        self._items: list[ASGIReceiveEvent] = []
        self._waiters: list[asyncio.Future[None]] | None = None

    def put_nowait(self, item: ASGIReceiveEvent) -> None:
        self._items.append(item)
        waiters = self._waiters
        if waiters:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
                    break

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    async def get(self) -> ASGIReceiveEvent:
        while not self._items:
            waiter = asyncio.get_running_loop().create_future()
            waiters = self._waiters
            if waiters is None:
                waiters = self._waiters = []
            waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                # Cancelled after being woken: wake the next reader in its place.
                if waiter.done() and not waiter.cancelled() and self._items:
                    self._wake_one(waiter)
                raise
            finally:
                waiters.remove(waiter)
                if not waiters:
                    self._waiters = None
        return self._items.pop(0)

    def _wake_one(self, but: asyncio.Future[None]) -> None:
        for waiter in self._waiters or ():
            if waiter is not but and not waiter.done():
                waiter.set_result(None)
                return


class Flag:
    """What `asyncio.Event` does for uvicorn's "writable" flag (`set`, `clear`,
    `is_set`, `wait`), without a deque while nobody waits."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        if self._set:
            return
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
        return True


class PortalWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol with a lighter receive queue and writable
    flag, and without the upgrade request and response kept after the handshake."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Mailbox()  # type: ignore[assignment]
        self.writable = Flag()  # type: ignore[assignment]
        self.writable.set()

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            # Sent: neither is read again (the scope has the request's headers).
            self.request = self.response = None  # type: ignore[assignment]
            forget_handshake(self.conn)


def forget_handshake(conn: ServerProtocol) -> None:
    """`websockets`' parser is a generator that keeps the upgrade request (its headers) in
    its frame for the connection's life, as it goes on to parse frames. Between frames (no
    byte of the next one read yet: it keeps nothing else) it is replaced by the same frame
    parser started afresh, without the request."""
    reader = conn.reader
    if conn.state is State.OPEN and not reader.buffer and not reader.eof:
        conn.parser = Protocol.parse(conn)
        next(conn.parser)
