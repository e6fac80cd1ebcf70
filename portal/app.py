"""The ASGI app: Starlette routes, the GraphQL endpoint, health checks, request ids."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from domain.clock import Clock
from portal.auth import Authentication, authenticate
from portal.config import Settings, from_env
from portal.context import Context
from portal.logs import request_id_var
from portal.services import Services, build_services
from schema import schema

log = logging.getLogger("portal")
REQUEST_ID_HEADER = "x-request-id"


class RequestIdMiddleware:
    """Give every request an id (or keep a sane one from the client) and echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = (
            incoming if 8 <= len(incoming) <= 64 and incoming.isascii() else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


class PortalGraphQL(GraphQL[Context, None]):
    def __init__(self, services: Services) -> None:
        super().__init__(schema, graphql_ide="graphiql" if services.settings.graphiql else None)
        self.services = services

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        now = self.services.clock.now()
        try:
            auth = await authenticate(self.services, request.headers.get("authorization"), now)
        except Exception as exc:
            # Raised again inside execution, where it is logged and masked with the request id.
            auth = Authentication(failure=exc)
        return Context(
            services=self.services,
            request=request,
            request_id=request.state.request_id,
            now=now,
            principal=auth.principal,
            auth_error=auth.error,
            actor_name=auth.actor_name,
            failure=auth.failure,
        )


async def healthz(_request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        async with services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        log.exception("readiness check failed")
        return JSONResponse({"status": "unavailable", "database": False}, status_code=503)
    return JSONResponse({"status": "ok", "database": True})


def create_app(
    settings: Settings | None = None, clock: Clock | None = None, services: Services | None = None
) -> Starlette:
    services = services or build_services(settings or from_env(), clock)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        services.audit.start()
        try:
            yield {}
        finally:
            await services.audit.close()
            await services.engine.dispose()

    graphql = PortalGraphQL(services)
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=[Middleware(RequestIdMiddleware)],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
