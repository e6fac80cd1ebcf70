"""WebSocket connections: authentication in `connection_init`, caps, and the socket context.

Both protocols are served (`graphql-transport-ws` and the legacy `graphql-ws`, by
portal/sockets.py, as strawberry's handlers served them). The access token comes in the
`connection_init` payload as `{"authorization": "Bearer <token>"}`. On
`graphql-transport-ws` a missing token closes the socket with 4401 and a refused one (bad,
expired, unknown account, too many open connections) with 4403, the code the protocol gives
for a rejected `connection_init`; the close reason says which; a database that cannot be
reached closes with 1013 (try again later). The legacy protocol answers `connection_error`
with that message.

The context lives as long as the connection; each subscription event starts afresh
(`begin_event`: the principal reloaded from the database, the time, new loaders, all three
shared with the account's other subscriptions delivering that same event), and the events
of one connection are executed one at a time (`SocketSession.lock`), so they never share
loaders or grants half-way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphql import GraphQLError
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from persistence.db import database_unavailable
from portal.auth import authenticate
from portal.http import encode_json
from runtime import metrics
from runtime.context import Context, SocketContext, SocketSession

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping

    from runtime.services import Services


def _reject(code: int, reason: str) -> ConnectionRejectionError:
    """How to close (the protocol handlers of portal/sockets.py read it) and what to tell
    the client."""
    return ConnectionRejectionError({"message": reason, "code": code})


async def connect(services: Services, context: Context) -> dict[str, object]:
    """`connection_init`: authenticate the token of its payload, or refuse the connection."""
    if not isinstance(context, SocketContext):
        raise _reject(4403, "Forbidden")
    params = context.connection_params or {}
    # Any spelling of the key (GraphiQL sends its Headers pane as the payload).
    header = next((v for k, v in params.items() if k.lower() == "authorization"), None)
    if not isinstance(header, str) or not header.strip():
        raise _reject(4401, "Unauthorized: send authorization in connection_init")
    now = services.clock.now()
    client = context.request.client if context.request is not None else None
    # The edge's one reading of a token (portal/auth.py), given the payload's header.
    auth = await authenticate(services, header, now, client.host if client else None)
    if auth.failure is not None:
        if not database_unavailable(auth.failure):
            raise auth.failure
        # 1013 Try Again Later (RFC 6455 registry): the client reconnects after a pause.
        raise _reject(1013, "Service unavailable: try again shortly")
    principal, session_id, expires_at = auth.principal, auth.session_id, auth.token_expires_at
    if principal is None or expires_at is None:
        raise _reject(4403, "Forbidden: the access token is not valid or has expired")
    if auth.terms_pending:
        raise _reject(4403, "Forbidden: accept the updated terms first")
    disconnected(services, context)  # a second connection_init (legacy protocol) re-counts
    sockets = services.realtime.sockets
    if not sockets.open(principal.account_id):
        raise _reject(4403, f"Forbidden: too many open connections ({sockets.limit})")
    context.connection_params = None  # read: the token is not kept for the connection's life
    context.socket = SocketSession(principal.account_id, session_id, expires_at)
    context.principal, context.actor_name, context.now = principal, auth.actor_name, now
    context.session_id = session_id
    context.auth_error = context.failure = None
    return {"expiresAt": expires_at.isoformat().replace("+00:00", "Z")}


def disconnected(services: Services, context: Context) -> None:
    if isinstance(context, SocketContext) and context.socket is not None:
        services.realtime.sockets.close(context.socket.account_id)
        context.socket = None


class _Encoded:
    """The JSON of the last event's data, kept while the next deliveries send the same
    object (one execution shared by alike subscriptions: schema/subscription.py)."""

    data: object = None
    text = ""

    @classmethod
    def of(cls, data: object) -> str:
        if cls.data is not data:
            cls.text, cls.data = encode_json(data).decode(), data
        return cls.text


def frame_of(message: Mapping[str, object]) -> str:
    """The JSON text of a protocol message; an event's data already encoded for another
    subscription sending that same answer is not encoded again."""
    payload = message.get("payload")
    if message.get("type") != "next" or not isinstance(payload, dict) or len(payload) != 1:
        return encode_json(message).decode()
    data = _Encoded.of(payload.get("data"))  # graphql-transport-ws, no errors
    op = encode_json(message["id"]).decode()
    return f'{{"id":{op},"type":"next","payload":{{"data":{data}}}}}'


class SubscriptionsOnly(SchemaExtension):
    """Over a WebSocket only subscriptions run: queries and mutations go over HTTP, where
    each request is authenticated and audited on its own."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        if (
            isinstance(execution.context, SocketContext)
            and execution.operation_type is not OperationType.SUBSCRIPTION
        ):
            raise GraphQLError(
                "Only subscriptions run over the WebSocket; send queries and mutations over HTTP.",
                extensions={"code": "BAD_REQUEST"},
            )
        yield


class AuditDeliveries(SchemaExtension):
    """The audit of a subscription event is written before the event is sent, as a query's
    is before its response: strawberry calls `on_stream_result` once the event's payload
    has been executed (so every read it made is known) and sends it when the hook returns.
    The deliveries of one event to one viewer go in one INSERT (`AuditWriter.write_together`
    waits until every delivery of the event's view has handed its rows over or ended
    unsent: runtime/realtime/sharing.py, `Gathering`); one event reaching 100 subscriptions
    costs one INSERT, not 100. A process killed right after a client got an event has its
    audit."""

    async def on_stream_result(self, result: object) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, SocketContext):
            await context.write_event_audit()
            yield
            # Resumed once the event is sent (the next result is asked for).
            metrics.subscription_sent(context.event_committed)
            return
        yield
