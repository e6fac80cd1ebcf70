"""The one layer in front of every route (`Edge`), and the app that puts it there.

What used to be five nested middlewares (Starlette's ServerErrorMiddleware, EdgeHeaders,
CORS, DatabaseUnavailable, Compression), each a coroutine frame and a `send` wrapper per
message, is one frame and one wrapper; and a request to `/graphql` over HTTP (nearly every
request) goes straight to its view behind the authentication edge, past Starlette's
ExceptionMiddleware, router and route, which have nothing to do for it (the view answers
every method and every failure itself). Every other path, and the WebSocket at `/graphql`,
takes the router as before.

Per request, in order:
- the request id and the security headers (portal/headers.py) on every response;
- compression (portal/compression.py) as the client's Accept-Encoding prefers;
- CORS (Starlette's middleware) when origins are configured;
- a database that cannot be reached before any response started: 503 with Retry-After
  (portal/unavailable.py); any other exception before a response started: a plain 500 with
  no details, the exception raised again for the server's log (what Starlette's
  ServerErrorMiddleware does, here with the request id and security headers too).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from functools import partial

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from persistence.db import database_unavailable
from portal.compression import compressed
from portal.headers import ALWAYS, HSTS, REQUEST_ID, edge_headers, request_id
from portal.logs import request_id_var
from portal.unavailable import unavailable_answer
from runtime.http_settings import HttpSettings

log = logging.getLogger("portal")

GRAPHQL_PATH = "/graphql"
INTERNAL_ERROR = b"Internal Server Error"
INTERNAL_ERROR_HEADERS = (
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", str(len(INTERNAL_ERROR)).encode()),
)


class Edge:
    """`app`: the router (behind Starlette's ExceptionMiddleware); `graphql`: the GraphQL
    view behind the authentication edge, for HTTP requests to exactly `/graphql`."""

    def __init__(
        self, app: ASGIApp, *, graphql: ASGIApp, http: HttpSettings, sockets: ASGIApp | None = None
    ) -> None:
        if http.cors_origins:
            cors = partial(
                CORSMiddleware,
                allow_origins=list(http.cors_origins),
                # Requests authenticate with a bearer header, never a cookie: no credentials.
                allow_credentials=False,
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "accept", "x-request-id"],
                expose_headers=["x-request-id", "retry-after"],
                max_age=600,
            )
            # Without a list no origin is allowed, and no middleware is needed for that: a
            # preflight then reaches the view and is refused (405) like any OPTIONS request.
            app, graphql = cors(app), cors(graphql)
        self.app = app
        self.graphql = graphql
        self.sockets = sockets or app
        hsts = http.hsts_max_age
        self.https_added = (*ALWAYS, (HSTS, f"max-age={hsts}".encode())) if hsts > 0 else ALWAYS
        self.retry_after = http.unavailable_retry_after_seconds
        self.minimum_size = http.compress_min_bytes

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain function handing over the coroutine to await: no frame of its own (a
        # WebSocket's would be kept for the connection's life).
        kind = scope["type"]
        if kind == "http":
            return self._http(scope, receive, send)
        if kind == "websocket":
            return self._websocket(scope, receive, send)
        return self.app(scope, receive, send)  # lifespan

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = request_id(scope["headers"])
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["request_id"] = rid
        token = request_id_var.set(rid)
        app = (
            self.graphql
            if scope["path"] == GRAPHQL_PATH and not scope.get("root_path")
            else self.app
        )
        if self.minimum_size > 0:
            app = compressed(app, scope, self.minimum_size)
        added = self.https_added if scope.get("scheme") == "https" else ALWAYS
        id_header = (REQUEST_ID, rid.encode())
        started = False

        async def send_edge(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = edge_headers(message.get("headers", ()), added, id_header)
            await send(message)

        try:
            await app(scope, receive, send_edge)
        except Exception as exc:
            if started:
                raise
            if database_unavailable(exc):
                log.warning("database unavailable on %s: %s", scope["path"], type(exc).__name__)
                status, headers, body = unavailable_answer(self.retry_after)
                await send_edge(
                    {"type": "http.response.start", "status": status, "headers": headers}
                )
                await send_edge({"type": "http.response.body", "body": body})
                return
            await send_edge(
                {"type": "http.response.start", "status": 500, "headers": INTERNAL_ERROR_HEADERS}
            )
            await send_edge({"type": "http.response.body", "body": INTERNAL_ERROR})
            raise  # for the server's log; the client has its 500 without details
        finally:
            request_id_var.reset(token)

    def _websocket(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """The request id in the logs of the socket's life (no header to put it in). A plain
        function: no frame of its own kept while the connection lasts (its task has a
        context of its own, so the id needs no reset)."""
        rid = request_id(scope["headers"])
        scope.setdefault("state", {})["request_id"] = rid
        request_id_var.set(rid)
        if scope["path"] == GRAPHQL_PATH and not scope.get("root_path"):
            return self.sockets(scope, receive, send)
        return self.app(scope, receive, send)


class EdgeApp(Starlette):
    """Starlette with `Edge` as its whole middleware stack: Edge, then (but for HTTP
    `/graphql`) Starlette's ExceptionMiddleware and router."""

    def __init__(
        self, *, graphql: ASGIApp, sockets: ASGIApp, http: HttpSettings, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._graphql = graphql
        self._sockets = sockets
        self._http = http

    def build_middleware_stack(self) -> ASGIApp:
        handlers = {
            key: value
            for key, value in self.exception_handlers.items()
            if key not in (500, Exception)
        }
        routed = ExceptionMiddleware(self.router, handlers=handlers, debug=self.debug)
        app: ASGIApp = Edge(routed, graphql=self._graphql, http=self._http, sockets=self._sockets)
        for cls, args, kwargs in reversed(self.user_middleware):  # none of ours
            app = cls(app, *args, **kwargs)
        return app
