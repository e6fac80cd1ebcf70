"""Single sign-on at the edge: one OpenID Connect client per configured provider, and the
callback the provider sends the browser back to (GET /sso/{provider}/callback), which ends
in a redirect to the client's registered return address: `?code=` (a one-time code to
exchange with `completeSsoSignIn`), `?linked=<provider>`, or `?error=<reason>`.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from domain.sso import UnknownState
from persistence.audit import AuditEntry
from persistence.uow import UnitOfWork
from runtime.services import Services
from usecases import sso as uc

log = logging.getLogger(__name__)


async def sso_callback(request: Request) -> Response:
    services: Services = request.app.state.services
    settings = services.settings.sso
    provider = settings.provider(request.path_params["provider"])
    params = request.query_params
    if provider is None or not params.get("state"):
        return _dead_end()
    command = uc.FinishSso(
        provider.rules(), params["state"], params.get("code"), params.get("error")
    )
    now = services.clock.now()
    try:
        finished = await uc.finish_sso(
            command,
            UnitOfWork(services.sessions),
            services.sso.clients[provider.id],
            now,
            settings.clock_skew,
        )
    except UnknownState:
        return _dead_end()
    if finished.outcome not in ("signed_in", "linked"):
        log.info("single sign-on with %s refused: %s", provider.id, finished.outcome)
    services.audit.submit(
        [
            AuditEntry(
                at=now,
                account_id=finished.account_id or "anonymous",
                actor_name="",
                patient_id=None,
                acting_as="self" if finished.account_id else "anonymous",
                action="write" if finished.outcome in ("signed_in", "linked") else "attempt",
                operation=f"GET /sso/{provider.id}/callback",
                object_types=f"ssoCallback:{finished.outcome}",
                request_id=request.state.request_id,
                client_address=request.client.host if request.client else None,
            )
        ]
    )
    return RedirectResponse(finished.redirect, status_code=303)


def _dead_end() -> Response:
    """No flow under way for this state: nowhere we may send the browser."""
    return PlainTextResponse(
        "This sign-in link is not valid or has expired. Start signing in again.", status_code=400
    )
