"""Authenticate a bearer token into a Principal: decode once, then load grants as of now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.access import Principal
from persistence.queries.people import principal_for
from persistence.terms import pending_for
from portal.security import InvalidToken
from portal.services import Services


@dataclass(frozen=True)
class Authentication:
    principal: Principal | None = None
    error: str | None = None  # set when a token was presented and refused
    actor_name: str = ""
    failure: Exception | None = None  # authentication itself failed (e.g. database down)
    terms_pending: bool = False  # current legal documents not accepted yet (domain/terms.py)


SIGNED_OUT = Authentication()


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else ""


async def authenticate(services: Services, header: str | None, now: datetime) -> Authentication:
    token = bearer_token(header)
    if token is None:
        return SIGNED_OUT
    try:
        claims = services.tokens.verify(token, now)
    except InvalidToken:
        return Authentication(error="Your session is not valid or has expired; sign in again.")
    async with services.session() as session:
        principal, name = await principal_for(session, claims.account_id, now)
        # Only a token issued while documents were pending costs a second statement.
        pending = claims.terms_pending and bool(await pending_for(session, claims.account_id))
    if principal is None:
        return Authentication(error="Your session is not valid or has expired; sign in again.")
    return Authentication(principal, None, name, terms_pending=pending)
