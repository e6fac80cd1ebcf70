"""The ASGI app: Starlette routes, the GraphQL endpoint, health checks, request ids."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from domain.clock import Clock
from domain.errors import BrokenInvariant
from loaders import Loaders
from portal import jobs, metrics_port
from portal.api import schema
from portal.attachments import download_attachment
from portal.auth import (
    NOT_VALID,
    Authenticate,
    BearerAuthentication,
    authentication_of,
    take_handover,
)
from portal.edge import EdgeApp
from portal.http import GraphQLOverHTTP
from portal.immunization_pdf import immunization_record
from portal.integration import receive_event
from portal.note_pdf import visit_summary
from portal.sockets import Sockets
from portal.sso import sso_callback
from runtime.config import Settings, from_env
from runtime.context import Context
from runtime.metrics import metrics_endpoint
from runtime.realtime import releases as realtime_releases
from runtime.realtime import retention as realtime_retention
from runtime.services import Services, build_services

log = logging.getLogger("portal")
# A request makes tens of thousands of short-lived objects (rows, GraphQL results, frames);
# with CPython's default first threshold (700) that is dozens of young collections per
# request, each promoting survivors that later cost full collections over the whole heap.
GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """After start-up: move everything imported and built so far (schema, statements,
    settings) out of the collector's sight (`gc.freeze`), and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class PortalGraphQL(GraphQLOverHTTP):
    def __init__(self, services: Services) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if services.settings.graphiql else None,
            # The GraphQL multipart request spec (attachments). Requests authenticate with a
            # bearer header, never a cookie, so a cross-site form post carries no credentials.
            multipart_uploads_enabled=True,
        )
        self.services = services

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        """An HTTP operation's context (the view's; WebSockets are portal/sockets.py's, which
        makes its own: one reaching here is a wiring fault)."""
        if not isinstance(request, Request):
            raise BrokenInvariant("the HTTP view was handed a WebSocket")
        now = self.services.clock.now()
        # Authenticated once at the edge (a batch's operations share it); a failure is
        # raised again inside execution, where it is logged and masked with the request id.
        auth = authentication_of(request)
        # One connection per operation, for its reads and its audit (closed by the view when
        # the operation ends): on PostgreSQL reading in autocommit, on SQLite in one read
        # transaction (loaders.base.RequestSession). The first operation continues on the
        # connection the request authenticated on, its patient loader primed with the rows
        # read with the principal.
        handover = take_handover(request)
        session = handover.session if handover is not None else None
        loaders = Loaders(self.services, per_request=True, session=session)
        if handover is not None:
            loaders.patient.known.update(handover.patients)
        context = Context(
            services=self.services,
            request=request,
            request_id=request.scope["state"]["request_id"],  # set by the edge
            now=now,
            principal=auth.principal,
            # The EHR feed's service token is no one's access token here.
            auth_error=NOT_VALID if auth.service else auth.error,
            actor_name=auth.actor_name,
            failure=auth.failure,
            session_id=auth.session_id,
            terms_pending=auth.terms_pending,
            given_loaders=loaders,
        )
        return context


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
        await services.realtime.start(services.engine)  # broker, outbox publisher
        releases = realtime_releases.start_releases(services)
        pruning = realtime_retention.start_pruning(services)
        reminders = jobs.start_reminders(services)
        reconciliation = jobs.start_payment_reconciliation(services)
        maintenance = jobs.start_health_maintenance(services)
        services.mail.start()
        services.deliveries.start()
        loopback_metrics = metrics_port.start(services)
        log.info(services.settings.mail.describe())
        tune_gc()
        try:
            yield {}
        finally:
            metrics_port.stop(loopback_metrics)
            await jobs.stop(reminders)
            await jobs.stop(reconciliation)
            await jobs.stop(maintenance)
            await realtime_releases.stop(releases)
            await jobs.stop(pruning)
            await services.realtime.close(services.engine)
            await services.deliveries.close()
            await services.push.close()
            await services.sso.close()
            await services.mail.close()
            await graphql.aclose()  # the HTTP front's Redis connections
            await services.audit.close()
            await services.engine.dispose()

    graphql = PortalGraphQL(services)
    sockets = Sockets(
        services,
        schema,
        # The web client's origins (CORS_ORIGINS) and those allowed for sockets alone.
        allowed_origins=(
            *services.settings.http.cors_origins,
            *services.settings.realtime.allowed_origins,
        ),
        max_subscriptions=services.settings.realtime.max_subscriptions_per_connection,
    )
    # The edge that authenticates (portal/auth.py), in front of every route taking a token.
    edge = [Middleware(Authenticate, backend=BearerAuthentication(services))]
    # GraphQL over HTTP authenticates on the connection its operation then uses.
    graphql_backend = BearerAuthentication(services, hand_over=True)
    graphql_edge = [Middleware(Authenticate, backend=graphql_backend)]
    app = EdgeApp(
        # HTTP requests to /graphql go from the edge (portal/edge.py) straight to the view
        # behind its authentication; the router's route below serves only a `root_path`.
        graphql=Authenticate(graphql, graphql_backend),
        # WebSockets to /graphql go from the edge straight to their protocol handling: no
        # token on the handshake (it comes in `connection_init`), no router or middleware
        # frames kept for the connection's life.
        sockets=sockets,
        http=services.settings.http,
        routes=[
            # First: the router tries routes in order, and nearly every request is this one.
            # Every method reaches the view, which answers other methods with a typed 405
            # (Starlette's own would be plain text).
            Route("/graphql", graphql, middleware=graphql_edge),
            WebSocketRoute("/graphql", sockets),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            Route("/integration/events", receive_event, methods=["POST"], middleware=edge),
            Route(
                "/patients/{patient_id}/immunizations.pdf",
                immunization_record,
                methods=["GET"],
                middleware=edge,
            ),
            Route("/notes/{note_id}.pdf", visit_summary, methods=["GET"], middleware=edge),
            Route(
                "/attachments/{attachment_id}",
                download_attachment,
                methods=["GET"],
                middleware=edge,
            ),
            Route("/sso/{provider}/callback", sso_callback, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
