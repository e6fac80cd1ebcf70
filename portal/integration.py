"""POST /integration/events: the EHR feed (docs/ehr-feed.md).

Service credentials only: `Authorization: Bearer <INTEGRATION_TOKEN>`, recognised by the
edge that authenticates (portal/auth.py, in constant time); a patient's JWT is just a wrong
token (401). The body is one event, read strictly
(domain/ehr.py): any problem is 422 with every problem listed, and nothing is written.
The event is applied by its use case (usecases/ehr.py), once per id: its row in
`integration_events` is inserted first, in the transaction of the change, so a re-sent or
concurrently duplicated event finds it taken and answers 200 `{"status": "duplicate"}`
having changed nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain import ehr
from persistence.uow import UnitOfWork
from portal.auth import authentication_of
from runtime.services import Services
from usecases import ehr as feed

log = logging.getLogger("portal.integration")

MAX_BODY_BYTES = 1 << 20
HEADERS = {"Cache-Control": "no-store"}


def _error(status: int, code: str, message: str, **extra: Any) -> Response:
    headers = {**HEADERS, **({"WWW-Authenticate": "Bearer"} if status == 401 else {})}
    body = {"status": "rejected", "error": {"code": code, "message": message, **extra}}
    return JSONResponse(body, status_code=status, headers=headers)


async def _body(request: Request) -> Any:
    """The JSON body, or a refusal (too large, not JSON, nested too deep to parse)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _error(415, "UNSUPPORTED_MEDIA_TYPE", "Send the event as application/json.")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            return _error(413, "PAYLOAD_TOO_LARGE", f"An event is at most {MAX_BODY_BYTES} bytes.")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return _error(400, "INVALID_JSON", "The body is not valid JSON.")


async def receive_event(request: Request) -> Response:
    services: Services = request.app.state.services
    # The edge (portal/auth.py) compared the token with INTEGRATION_TOKEN in constant time.
    if not authentication_of(request).service:
        return _error(401, "UNAUTHENTICATED", "Service credentials are required.")
    raw = await _body(request)
    if isinstance(raw, Response):
        return raw
    try:
        event = ehr.parse_event(raw)
        outcome = await feed.apply_once(event, UnitOfWork(services.sessions), ports(services))
    except ehr.InvalidEvent as invalid:
        problems = [{"field": p.field, "message": p.message} for p in invalid.problems]
        log.info("EHR event refused: %s", invalid)
        return JSONResponse(
            {"status": "rejected", "errors": problems}, status_code=422, headers=HEADERS
        )
    if isinstance(outcome, feed.Previous):
        return _answer_repeat(event, outcome)
    body = {
        "status": "applied",
        "id": event.id,
        "type": event.type.value,
        "objectId": outcome.object_id,
        "changed": outcome.changed,
    }
    return JSONResponse(body, headers=HEADERS)


def _answer_repeat(event: ehr.Event, previous: feed.Previous) -> Response:
    if previous.fingerprint != event.fingerprint:
        return _error(
            409,
            "EVENT_ID_REUSED",
            "This event id was applied before with different content; nothing was changed.",
            id=event.id,
        )
    return JSONResponse({"status": "duplicate", "id": event.id}, headers=HEADERS)


def ports(services: Services) -> feed.Ports:
    """What the feed's use cases need of the process: its clock and policies."""
    settings = services.settings
    return feed.Ports(services.clock, settings.release, settings.ages)
