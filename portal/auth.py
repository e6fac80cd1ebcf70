"""The edge that authenticates (docs/sessions.md): a bearer token becomes a Principal once
per request, here and nowhere else.

`BearerAuthentication` is a Starlette `AuthenticationBackend`: `Authenticate` (a lean
`AuthenticationMiddleware`) runs it in front of every route that takes a token (`/graphql`
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.access import Principal
from domain.sessions import TOUCH_EVERY_SECONDS
from loaders.base import RequestSession
from persistence.queries.people import PatientRow as Patient
from persistence.queries.people import principal_in_session
from persistence.sessions import SessionRepository
from persistence.terms import pending_for
from runtime.security import InvalidToken
from runtime.services import Services

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
    terms_pending: bool = False  # current legal documents not accepted yet (domain/terms.py)

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
    """`hand_over` (the GraphQL route): an HTTP request's authentication hands its first
    operation what it read (`Handover`): the connection it ran on, which the operation then
    reads and audits on, so a request checks out one connection, not two (on SQLite: one
    read transaction, one snapshot); and the rows of the account's patients, read in the
    same statement as its grants."""

    def __init__(self, services: Services, *, hand_over: bool = False) -> None:
        self.services = services
        self.hand_over = hand_over

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser]:
        return await self.of_scope(conn.scope)

    async def of_scope(self, scope: Scope) -> tuple[AuthCredentials, PortalUser]:
        """`authenticate` on the raw connection scope (`Authenticate` calls it on every
        request: no Starlette connection, headers or state objects to build)."""
        handover = None
        if self.hand_over and scope["type"] == "http":
            session = RequestSession(
                self.services.read_sessions, shared=True, gate=self.services.request_gate
            )
            handover = Handover(session)
            state = scope.get("state")
            if state is None:
                state = scope["state"] = {}
            state["handover"] = handover
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        client = scope.get("client")
        auth = await authenticate(
            self.services,
            header,
            self.services.clock.now(),
            client[0] if client else None,
            handover,
        )
        return AuthCredentials(auth.scopes), PortalUser(auth)


class Authenticate:
    """The authentication edge in front of a route: Starlette's `AuthenticationMiddleware`
    for a backend that never refuses a connection (`BearerAuthentication` answers every
    request, refusals included, in `scope["user"]`), without its connection object."""

    def __init__(self, app: ASGIApp, backend: BearerAuthentication) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" or scope["type"] == "websocket":
            scope["auth"], scope["user"] = await self.backend.of_scope(scope)
        await self.app(scope, receive, send)


@dataclass
class Handover:
    """What an HTTP request's authentication leaves to its first operation."""

    session: RequestSession | None  # the connection it ran on
    # The rows of the account's own patient and of every patient it holds a grant for.
    patients: Mapping[str, Patient] = field(default_factory=dict)


def take_handover(conn: HTTPConnection) -> Handover | None:
    """The request's `Handover`, once: to its first operation, or, if none runs, to be
    closed (`close_handover`)."""
    state = conn.scope.get("state")
    return state.pop("handover", None) if state is not None else None


async def close_handover(conn: HTTPConnection) -> None:
    """Give back the connection the request authenticated on if no operation took it (the
    request was refused before one ran)."""
    handover = take_handover(conn)
    if handover is not None and handover.session is not None:
        await handover.session.close()


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
    handover: Handover | None = None,
) -> Authentication:
    """The one place a bearer token is read. Never raises: a failure (the database down)
    comes back in `failure`, for the caller to raise where it is masked and logged.

    `handover`: runs on its session if it has one (else on a short autocommit session of
    its own) and receives the rows of the account's patients."""
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
        # Autocommit on PostgreSQL: the one SELECT, no BEGIN/ROLLBACK around it.
        shared = handover.session if handover is not None else None
        async with (shared or services.read_sessions)() as session:
            found = await principal_in_session(
                session,
                claims.account_id,
                claims.session_id,
                now,
                with_patients=handover is not None,
            )
            # Only a token issued while documents were pending costs a second statement.
            pending = claims.terms_pending and bool(await pending_for(session, claims.account_id))
        sid = claims.session_id
        if found is not None and sid is not None and _stale(found.session_last_used_at, now):
            # The request's session ends its read transaction first on SQLite (`writing`).
            async with (shared.writing if shared else services.read_sessions)() as session:
                await SessionRepository(session).touch(sid, now, client_address)
                await session.commit()
    except Exception as exc:
        return Authentication(failure=exc)
    if found is None:
        return Authentication(error=NOT_VALID)
    if handover is not None:
        handover.patients = found.patients
    return Authentication(
        found.principal,
        None,
        found.display_name,
        session_id=claims.session_id,
        token_expires_at=datetime.fromtimestamp(claims.expires_at, now.tzinfo),
        terms_pending=pending,
    )


def _stale(last_used_at: datetime, now: datetime) -> bool:
    return now - last_used_at >= timedelta(seconds=TOUCH_EVERY_SECONDS)
