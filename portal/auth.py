"""The edge that authenticates (docs/sessions.md): a bearer token becomes a Principal once
per request, here and nowhere else.

`BearerAuthentication` is a Starlette `AuthenticationBackend`: Starlette's
`AuthenticationMiddleware` runs it in front of every route that takes a token (`/graphql`
over HTTP and WebSocket, attachments, the immunization PDF, the EHR feed) and leaves its
answer on the connection (`request.user`, read with `authentication_of`). A WebSocket's
token comes later, in `connection_init`: the socket hands it to the same `authenticate`.

An access token names its session (`sid`); the account, its grants and that session are
loaded in one statement, which finds nothing once the session has ended, so a signed-out
token is refused at once. The EHR feed's service token is recognised here too (compared
in constant time) and gives no Principal, only the `integration` scope.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.access import Principal
from domain.sessions import TOUCH_EVERY_SECONDS
from loaders.base import RequestSession, SessionSource
from persistence.queries.people import principal_in_session
from persistence.sessions import SessionRepository
from portal.security import InvalidToken
from portal.services import Services

NOT_VALID = "Your session is not valid or has expired; sign in again."
SIGNED_IN = "authenticated"  # the scope of a request with a Principal
INTEGRATION = "integration"  # the scope of the EHR feed's service token


@dataclass(frozen=True)
class Authentication:
    principal: Principal | None = None
    error: str | None = None  # set when a token was presented and refused
    actor_name: str = ""
    failure: Exception | None = None  # authentication itself failed (e.g. database down)
    session_id: str | None = None  # the session the access token belongs to
    token_expires_at: datetime | None = None
    service: bool = False  # the EHR feed's service token

    @property
    def scopes(self) -> list[str]:
        return [SIGNED_IN] if self.principal else [INTEGRATION] if self.service else []


SIGNED_OUT = Authentication()


class PortalUser(BaseUser):
    """What Starlette keeps as `request.user`: the whole answer, refusals included."""

    def __init__(self, authentication: Authentication) -> None:
        self.authentication = authentication

    @property
    def is_authenticated(self) -> bool:
        return bool(self.authentication.scopes)

    @property
    def display_name(self) -> str:
        return self.authentication.actor_name

    @property
    def identity(self) -> str:
        principal = self.authentication.principal
        return principal.account_id if principal else ""


class BearerAuthentication(AuthenticationBackend):
    def __init__(self, services: Services) -> None:
        self.services = services

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser]:
        auth = await authenticate(
            self.services,
            conn.headers.get("authorization"),
            self.services.clock.now(),
            conn.client.host if conn.client else None,
            request_database(conn),
        )
        return AuthCredentials(auth.scopes), PortalUser(auth)


class Edge(AuthenticationMiddleware):
    """Starlette's AuthenticationMiddleware with our backend. `own_connection` (the GraphQL
    endpoint): on PostgreSQL an HTTP request's statements, the authentication's first, share
    one connection (`RequestSession`, docs/performance.md) that the view's loaders reuse;
    it is given back when the request ends, whether or not the view ever used it."""

    def __init__(self, app: ASGIApp, services: Services, own_connection: bool = False) -> None:
        super().__init__(app, backend=BearerAuthentication(services))
        self.services = services
        self.own_connection = own_connection and services.engine.dialect.name == "postgresql"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.own_connection:
            await super().__call__(scope, receive, send)
            return
        database = RequestSession(self.services.read_sessions, shared=True)
        scope.setdefault("state", {})[REQUEST_DATABASE] = database
        try:
            await super().__call__(scope, receive, send)
        finally:
            await database.close()


REQUEST_DATABASE = "database"


def request_database(conn: HTTPConnection) -> RequestSession | None:
    """The request's own connection, when it has one (see `Edge`)."""
    database = conn.scope.get("state", {}).get(REQUEST_DATABASE)
    return database if isinstance(database, RequestSession) else None


def authentication_of(conn: HTTPConnection) -> Authentication:
    """The edge's answer for this request (a route behind `BearerAuthentication`)."""
    user = conn.scope.get("user")
    if not isinstance(user, PortalUser):
        raise RuntimeError("this route is not behind the authentication edge")
    return user.authentication


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else ""


async def authenticate(
    services: Services,
    header: str | None,
    now: datetime,
    client_address: str | None,
    sessions: SessionSource | None = None,
) -> Authentication:
    """The one place a bearer token is read. Never raises: a failure (the database down)
    comes back in `failure`, for the caller to raise where it is masked and logged.
    `sessions`: where the statement runs (an HTTP request's own connection, which its
    loaders and audit then reuse); a short session of its own by default."""
    token = bearer_token(header)
    if token is None:
        return SIGNED_OUT
    expected = services.settings.integration_token
    if token and expected and hmac.compare_digest(token.encode(), expected.encode()):
        return Authentication(service=True)
    try:
        claims = services.tokens.verify(token, now)
    except InvalidToken:
        return Authentication(error=NOT_VALID)
    try:
        async with (sessions or services.sessions)() as session:
            found = await principal_in_session(session, claims.account_id, claims.session_id, now)
            if found is not None and _stale(found.session_last_used_at, now):
                await SessionRepository(session).touch(claims.session_id, now, client_address)
                await session.commit()
    except Exception as exc:
        return Authentication(failure=exc)
    if found is None:
        return Authentication(error=NOT_VALID)
    return Authentication(
        found.principal,
        None,
        found.display_name,
        session_id=claims.session_id,
        token_expires_at=datetime.fromtimestamp(claims.expires_at, now.tzinfo),
    )


def _stale(last_used_at: datetime, now: datetime) -> bool:
    return now - last_used_at >= timedelta(seconds=TOUCH_EVERY_SECONDS)
