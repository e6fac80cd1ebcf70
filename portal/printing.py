"""What the printable documents (GET ….pdf) share: the signed-in context built from the
bearer token, JSON refusals that say why, and text the PDF core fonts can print."""

from __future__ import annotations

import unicodedata

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.terms import TermsAcceptanceRequired
from portal.auth import authentication_of
from runtime.context import Context
from runtime.services import Services

HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def refused(status: int, code: str, message: str, reason: str | None = None) -> Response:
    body = {"error": {"code": code, "message": message, "reason": reason}}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    return JSONResponse(body, status_code=status, headers={**headers, **HEADERS})


async def signed_in_context(request: Request) -> Context | Response:
    """The request's context, as the GraphQL endpoint builds it; a 401 without a good token.
    The token was read once, at the edge (portal/auth.py)."""
    services: Services = request.app.state.services
    now = services.clock.now()
    auth = authentication_of(request)
    if auth.failure is not None:
        raise auth.failure  # the database is down: a typed 503 (portal/unavailable.py)
    if auth.principal is None:
        return refused(401, "UNAUTHENTICATED", auth.error or "Sign in to continue.")
    if auth.terms_pending:  # nothing but the terms until they are accepted
        return refused(403, "TERMS_ACCEPTANCE_REQUIRED", str(TermsAcceptanceRequired()))
    return Context(
        services=services,
        request=request,
        request_id=request.state.request_id,
        now=now,
        principal=auth.principal,
        actor_name=auth.actor_name,
        session_id=auth.session_id,
    )


def latin1(text: str) -> str:
    """The PDF core fonts are Latin-1: keep accents, fold or drop anything beyond it."""
    if all(ord(ch) < 256 for ch in text):
        return text
    folded = unicodedata.normalize("NFKD", text)
    return folded.encode("latin-1", "ignore").decode("latin-1")
