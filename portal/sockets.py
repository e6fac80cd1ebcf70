"""GraphQL over WebSocket at `/graphql`: both protocols, on the raw ASGI connection.

What strawberry's view did for a WebSocket (its `graphql-transport-ws` and legacy
`graphql-ws` handlers, its WebSocket adapter, Starlette's router, route and WebSocket
object around them), in one object per connection and one task per operation: an idle
subscription is mostly what its connection keeps (docs/realtime.md), and that chain kept a
dozen suspended frames and half a dozen objects per connection for its whole life. The
execution is still strawberry's (`schema.stream` / `schema.subscribe`, with the schema's
extensions: `SubscriptionsOnly`, `AuditDeliveries`, ...); the protocols' messages, close
codes and reasons are those of strawberry's handlers, which the tests pin:

- the handshake: a page of another origin is refused (403) unless allowed
  (`allowed_origins`, as strawberry's `allowed_origins`); the first subprotocol the client
  offers that we speak is accepted; none: accepted, then closed 4406;
- `graphql-transport-ws`: `connection_init` within `init_timeout` (else 4408), once (4429),
  authenticated by `portal.websocket.connect` (a refusal closes with the code and reason it
  chose: 4401, 4403, 1013); `subscribe` before it 4401, an id in use 4409, past
  `max_subscriptions` an `error`; `ping` → `pong`; `complete` ends the operation; a
  message that is not text or not a well-formed JSON message 4400;
- `graphql-ws` (legacy): a refused `connection_init` answers `connection_error` with the
  refusal and closes 1011; `start` / `stop`; a malformed message is ignored, a binary one
  closes 1002; `connection_terminate` closes 1000.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import suppress
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, GraphQLSyntaxError
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.websocket_origin import (
    is_same_origin,
    normalize_allowed_origins,
    normalize_origin,
)
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.utils.aio import aclosing

from portal.http import decode_json
from portal.websocket import connect, disconnected, frame_of
from runtime import metrics
from runtime.context import SocketContext
from runtime.realtime.sharing import operation_sender

if TYPE_CHECKING:
    from collections.abc import Awaitable, Iterable

    from starlette.types import Receive, Scope, Send
    from strawberry.schema import BaseSchema
    from strawberry.schema.schema import StreamResult

    from runtime.services import Services

log = logging.getLogger("portal")
TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
SUBPROTOCOLS = (TRANSPORT_WS, LEGACY_WS)


class Sockets:
    """The ASGI app of WebSocket connections to the GraphQL endpoint."""

    def __init__(
        self,
        services: Services,
        schema: BaseSchema,
        *,
        allowed_origins: Iterable[str] = (),
        max_subscriptions: int | None = None,
        init_timeout: timedelta = timedelta(minutes=1),
    ) -> None:
        self.services = services
        self.schema = schema
        self.allowed_origins = normalize_allowed_origins(tuple(allowed_origins))
        self.max_subscriptions = max_subscriptions
        self.init_timeout = init_timeout.total_seconds()

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain function returning the connection's coroutine: no frame of its own kept
        # for the connection's life.
        return _serve(self, scope, receive, send)

    def origin_allowed(self, scope: Scope) -> bool:
        """strawberry's check: no Origin (not a browser), the same origin, or an allowed one."""
        headers = {k: v for k, v in scope["headers"] if k in _ORIGIN_HEADERS}
        origin = headers.get(b"origin")
        if origin is None:
            return True
        text = origin.decode("latin-1")
        host = headers.get(b"host")
        if headers.get(b"sec-fetch-site") == b"same-origin" or is_same_origin(
            text, host.decode("latin-1") if host is not None else None
        ):
            return True
        if "*" in self.allowed_origins or normalize_origin(text) in self.allowed_origins:
            return True
        log.warning("refused a WebSocket from origin %r to host %r", text, host)
        return False


_ORIGIN_HEADERS = frozenset({b"origin", b"host", b"sec-fetch-site"})


async def _serve(app: Sockets, scope: Scope, receive: Receive, send: Send) -> None:
    metrics.websocket_opened()  # every WebSocket passes here, whatever its protocol
    try:
        if (await receive())["type"] != "websocket.connect":
            return
        if not app.origin_allowed(scope):
            # Closing before accepting: the server answers the handshake with 403.
            await send({"type": "websocket.close", "code": 1008})
            return
        offered = scope.get("subprotocols") or ()
        chosen = next((p for p in offered if p in SUBPROTOCOLS), None)
        await send({"type": "websocket.accept", "subprotocol": chosen})
        if chosen is None:
            await send(
                {"type": "websocket.close", "code": 4406, "reason": "Subprotocol not acceptable"}
            )
            return
        # Nothing reads the handshake's headers again (the token comes in `connection_init`;
        # queries and mutations, which read a few, are refused over a socket): not kept in
        # the scope for the connection's life.
        scope["headers"] = []
        services = app.services
        context = SocketContext(
            services=services,
            request=WebSocket(scope, receive, send),
            request_id=scope["state"]["request_id"],  # set by the edge
            now=services.clock.now(),
        )
        socket = (TransportSocket if chosen == TRANSPORT_WS else LegacySocket)(app, context, send)
        try:
            await socket.serve(receive)
        finally:
            disconnected(services, context)
    finally:
        metrics.websocket_closed()


class Gone(Exception):
    """The socket is closed (by us or the peer): nothing more can be sent on it."""


class Socket:
    """One connection: its context, its operations (one task each) and how to send."""

    __slots__ = ("acknowledged", "app", "closed", "context", "operations", "send_asgi")

    non_text_close = 4400
    # What `schema.stream` runs (graphql-transport-ws: any, SubscriptionsOnly refusing the
    # rest; the legacy protocol: subscriptions, as strawberry's `schema.subscribe`).
    operation_types: tuple[OperationType, ...] | None = None

    def __init__(self, app: Sockets, context: SocketContext, send: Send) -> None:
        self.app = app
        self.context = context
        self.send_asgi = send
        self.closed = False
        self.acknowledged = False
        self.operations: dict[str, asyncio.Task[None]] = {}

    async def serve(self, receive: Receive) -> None:
        self.started()
        try:
            while not self.closed:
                message = await receive()
                kind = message["type"]
                if kind == "websocket.disconnect":
                    self.closed = True
                    break
                if kind != "websocket.receive":
                    continue
                text = message.get("text")
                if text is None:
                    await self.close(self.non_text_close, "WebSocket message type must be text")
                    break
                try:
                    decoded = decode_json(text)
                    if not _well_formed(decoded):
                        raise json.JSONDecodeError("not a GraphQL over WebSocket message", "", 0)
                except json.JSONDecodeError:
                    await self.malformed()
                    continue
                await self.handle(decoded)
                del message, text, decoded  # not kept while waiting for the next
        finally:
            await self.shutdown()

    def started(self) -> None:
        """The connection is accepted."""

    async def malformed(self) -> None:
        raise NotImplementedError

    async def handle(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    async def shutdown(self) -> None:
        tasks = list(self.operations.values())
        self.operations.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:  # their `finally` blocks run before the connection is released
            with suppress(Exception, asyncio.CancelledError):
                await task

    async def send(self, message: dict[str, Any]) -> None:
        if self.closed:
            raise Gone
        try:
            await self.send_asgi({"type": "websocket.send", "text": frame_of(message)})
        except OSError as exc:  # uvicorn's ClientDisconnected
            self.closed = True
            raise Gone from exc

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        with suppress(OSError):
            await self.send_asgi({"type": "websocket.close", "code": code, "reason": reason})

    async def authenticate(self, payload: dict[str, object] | None) -> dict[str, object] | None:
        """`connection_init`'s payload: the acknowledgement's payload, or None once refused
        (the refusal already told the client)."""
        self.context.connection_params = payload
        try:
            return await connect(self.app.services, self.context)
        except ConnectionRejectionError as refusal:
            await self.refused(refusal.payload)
            return None

    async def refused(self, refusal: dict[str, object]) -> None:
        raise NotImplementedError

    async def run(
        self, op_id: str, query: str, variables: dict[str, Any] | None, name: str | None
    ) -> None:
        """An operation's task: its results sent as they come, then its end as the protocol
        says it (one frame for both protocols: it is kept for the subscription's life).
        An answer taken from an alike subscription is sent by the subscription itself
        (`operation_sender`: schema/subscription.py), not through this loop."""
        operation_sender.set(_Sender(self, op_id))  # this task's own context
        try:
            source = await self.execute(query, variables, name)
            async with aclosing(source):
                first = True
                async for result in source:
                    if first and isinstance(result, PreExecutionError) and result.errors:
                        await self.refused_operation(op_id, result.errors)
                        return
                    if not isinstance(result, ExecutionResult):  # @defer / @stream
                        error = GraphQLError("Incremental delivery is not supported over WebSocket")
                        await self.refused_operation(op_id, [error])
                        return
                    first = False
                    await self.send(self.result_message(op_id, result))
            await self.completed(op_id)
        except asyncio.CancelledError:
            if not await self.stopped(op_id):
                raise
        except Gone:
            pass
        except Exception:
            log.exception("subscription %s failed", op_id)
            with suppress(Gone):
                await self.failed(op_id)
        finally:
            self.forget(op_id)

    async def execute(
        self, query: str, variables: dict[str, Any] | None, name: str | None
    ) -> StreamResult:
        return await self.app.schema.stream(
            query,
            variable_values=variables,
            context_value=self.context,
            operation_name=name,
            allowed_operation_types=self.operation_types,
        )

    async def completed(self, op_id: str) -> None:
        raise NotImplementedError

    async def stopped(self, op_id: str) -> bool:
        """Cancelled (stopped by the client, or the connection ended): True if that is the
        operation's end, said to the client, rather than the task's cancellation."""
        return False

    async def failed(self, op_id: str) -> None:
        """The operation raised (logged): what to tell the client."""

    async def refused_operation(self, op_id: str, errors: list[GraphQLError]) -> None:
        raise NotImplementedError

    def result_message(self, op_id: str, result: ExecutionResult) -> dict[str, Any]:
        raise NotImplementedError

    def start(self, op_id: str, run: Any) -> None:
        self.operations[op_id] = asyncio.get_running_loop().create_task(run)

    def forget(self, op_id: str) -> None:
        """The operation of the running task is over: its id may be used again."""
        task = self.operations.get(op_id)
        if task is not None and task is asyncio.current_task():
            del self.operations[op_id]

    def cancel(self, op_id: str) -> asyncio.Task[None] | None:
        task = self.operations.pop(op_id, None)
        if task is not None:
            task.cancel()
        return task


class _Sender:
    """An operation's `OperationSender`: its event data as its protocol's result message."""

    __slots__ = ("op_id", "socket")

    def __init__(self, socket: Socket, op_id: str) -> None:
        self.socket = socket
        self.op_id = op_id

    async def send_data(self, data: dict[str, Any]) -> bool:
        socket = self.socket
        try:
            await socket.send(socket.result_message(self.op_id, ExecutionResult(data, None)))
        except Gone:
            return False
        return True


def _close_reason(error: GraphQLError) -> str | None:
    """strawberry's: a document that does not parse, or names no operation to run, closes
    a `graphql-transport-ws` socket (4400) rather than answering an error."""
    if isinstance(error, GraphQLSyntaxError):
        return error.message
    if isinstance(error.original_error, CannotGetOperationTypeError):
        return error.original_error.as_http_error_reason()
    return None


class TransportSocket(Socket):
    """The `graphql-transport-ws` protocol."""

    __slots__ = ("init_received", "init_timer")

    def __init__(self, app: Sockets, context: SocketContext, send: Send) -> None:
        super().__init__(app, context, send)
        self.init_received = False
        self.init_timer: asyncio.TimerHandle | asyncio.Task[None] | None = None

    def started(self) -> None:
        loop = asyncio.get_running_loop()
        self.init_timer = loop.call_later(self.app.init_timeout, self._init_timed_out)

    def _init_timed_out(self) -> None:
        if not self.init_received:
            close = self.close(4408, "Connection initialisation timeout")
            self.init_timer = asyncio.get_running_loop().create_task(close)

    async def malformed(self) -> None:
        await self.close(4400, "WebSocket message must be valid JSON")

    async def shutdown(self) -> None:
        timer, self.init_timer = self.init_timer, None
        if timer is not None:
            timer.cancel()
        await super().shutdown()

    async def handle(self, message: dict[str, Any]) -> None:
        try:
            kind = message["type"]
            if kind == "connection_init":
                await self.connection_init(message)
            elif kind == "ping":
                await self.send({"type": "pong"})
            elif kind == "pong":
                pass
            elif kind == "subscribe":
                await self.subscribe(message)
            elif kind == "complete":
                self.cancel(message["id"])
            else:
                await self.close(4400, f"Unknown message type: {kind}")
        except KeyError:
            await self.close(4400, "Failed to parse message")
        except Gone:
            pass

    async def connection_init(self, message: dict[str, Any]) -> None:
        if isinstance(self.init_timer, asyncio.Task):
            return  # timed out: closing
        timer, self.init_timer = self.init_timer, None
        if timer is not None:
            timer.cancel()
        payload = message.get("payload", {})
        if not isinstance(payload, dict):
            await self.close(4400, "Invalid connection init payload")
            return
        if self.init_received:
            await self.close(4429, "Too many initialisation requests")
            return
        self.init_received = True
        acknowledged = await self.authenticate(payload)
        if acknowledged is not None:
            await self.send({"type": "connection_ack", "payload": acknowledged})
            self.acknowledged = True

    async def refused(self, refusal: dict[str, object]) -> None:
        code, reason = refusal.get("code"), refusal.get("message")
        await self.close(code if isinstance(code, int) else 4403, str(reason or "Forbidden"))

    async def subscribe(self, message: dict[str, Any]) -> None:
        if not self.acknowledged:
            await self.close(4401, "Unauthorized")
            return
        op_id: str = message["id"]
        if op_id in self.operations:
            await self.close(4409, f"Subscriber for {op_id} already exists")
            return
        limit = self.app.max_subscriptions
        if limit is not None and len(self.operations) >= limit:
            error = GraphQLError("Subscription limit reached")
            await self.send({"id": op_id, "type": "error", "payload": [error.formatted]})
            return
        payload = message["payload"]
        query, variables = payload["query"], payload.get("variables")
        self.start(op_id, self.run(op_id, query, variables, payload.get("operationName")))

    async def completed(self, op_id: str) -> None:
        await self.final(op_id, "complete")

    async def failed(self, op_id: str) -> None:
        await self.final(op_id, "complete")

    async def refused_operation(self, op_id: str, errors: list[GraphQLError]) -> None:
        reason = _close_reason(errors[0])
        if reason is not None:
            self.forget(op_id)
            await self.close(4400, reason)
            return
        await self.final(op_id, "error", [error.formatted for error in errors])

    def result_message(self, op_id: str, result: ExecutionResult) -> dict[str, Any]:
        return {"id": op_id, "type": "next", "payload": _payload(result)}

    async def final(self, op_id: str, kind: str, payload: object = None) -> None:
        """The operation's last message; its id is free before it is sent."""
        self.forget(op_id)
        message: dict[str, object] = {"id": op_id, "type": kind}
        if payload is not None:
            message["payload"] = payload
        await self.send(message)


class LegacySocket(Socket):
    """The legacy `graphql-ws` protocol (subscriptions-transport-ws)."""

    __slots__ = ()

    non_text_close = 1002
    operation_types = (OperationType.SUBSCRIPTION,)

    async def malformed(self) -> None:
        """The legacy protocol ignores a message it cannot read."""

    async def handle(self, message: dict[str, Any]) -> None:
        try:
            kind = message["type"]
            if kind == "connection_init":
                await self.connection_init(message)
            elif kind == "connection_terminate":
                await self.close(1000, "")
            elif kind == "start":
                await self.start_operation(message)
            elif kind == "stop":
                await self.stop(message["id"])
        except Gone:
            pass

    async def connection_init(self, message: dict[str, Any]) -> None:
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            await self.send({"type": "connection_error"})
            await self.close(1000, "")
            return
        acknowledged = await self.authenticate(payload)
        if acknowledged is not None:
            await self.send({"type": "connection_ack", "payload": acknowledged})
            self.acknowledged = True

    async def refused(self, refusal: dict[str, object]) -> None:
        await self.send({"type": "connection_error", "payload": refusal})
        await self.close(1011, "")

    async def start_operation(self, message: dict[str, Any]) -> None:
        if not self.acknowledged:
            await self.close(4401, "Unauthorized")
            return
        op_id: str = message["id"]
        if op_id in self.operations:
            await self.stop(op_id)
        limit = self.app.max_subscriptions
        if limit is not None and len(self.operations) >= limit:
            payload = {"message": "Subscription limit reached"}
            await self.send({"type": "error", "id": op_id, "payload": payload})
            return
        payload = message["payload"]
        query, variables = payload["query"], payload.get("variables")
        self.start(op_id, self.run(op_id, query, variables, payload.get("operationName")))

    async def refused_operation(self, op_id: str, errors: list[GraphQLError]) -> None:
        await self.send({"type": "error", "id": op_id, "payload": errors[0].formatted})

    def result_message(self, op_id: str, result: ExecutionResult) -> dict[str, Any]:
        return {"type": "data", "id": op_id, "payload": _payload(result)}

    async def stop(self, op_id: str) -> None:
        task = self.cancel(op_id)
        if task is not None:
            with suppress(BaseException):
                await task

    async def completed(self, op_id: str) -> None:
        await self.send({"type": "complete", "id": op_id})

    async def stopped(self, op_id: str) -> bool:
        # `stop` (or the connection's end): the legacy protocol says `complete`.
        with suppress(Gone):
            await self.completed(op_id)
        return True


START = frozenset({"subscribe", "start"})  # an operation's first message, in either protocol


def _well_formed(message: object) -> bool:
    """A WebSocket message is an object with a string `type`; one that starts an operation
    has a string `id` and a payload of the shape a GraphQL request has over HTTP (else the
    handling would raise on it: a list, a payload that is not an object, a query that is
    not a string)."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return False
    if message["type"] not in START:
        return True
    payload = message.get("payload")
    return (
        isinstance(message.get("id"), str)
        and isinstance(payload, dict)
        and isinstance(payload.get("query"), str)
        and isinstance(payload.get("operationName"), str | None)
        and isinstance(payload.get("variables"), dict | None)
        and isinstance(payload.get("extensions"), dict | None)
    )


def _payload(result: ExecutionResult) -> dict[str, object]:
    payload: dict[str, object] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload
