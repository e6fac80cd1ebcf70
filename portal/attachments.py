"""GET /attachments/{id}: an uploaded file, to whoever may read what it belongs to.

The same bearer token as the GraphQL endpoint and the same policy as the record: a message's
attachment needs the MESSAGES area of the thread's patient, an insurance card the
APPOINTMENTS area. Unknown and forbidden ids both answer 403 (with the reason, as GraphQL's
FORBIDDEN does), so ids reveal nothing; a malformed id is 404. The file goes out as a
download of the type its content was recognised as, never sniffed or rendered inline.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from domain import access
from domain.access import AccessDenied
from domain.scopes import AccessReason
from domain.terms import TermsAcceptanceRequired
from persistence import models as m
from persistence.audit import AuditEntry
from persistence.messages import ATTACHMENT_AREAS
from portal.auth import authentication_of
from runtime.services import Services
from schema.base import BadInput, internal_id

log = logging.getLogger(__name__)

SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def _refused(status: int, code: str, message: str, reason: str | None = None) -> Response:
    body = {"error": {"code": code, "message": message, "reason": reason}}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    return JSONResponse(body, status_code=status, headers={**headers, **SAFE_HEADERS})


async def download_attachment(request: Request) -> Response:
    services: Services = request.app.state.services
    now = services.clock.now()
    auth = authentication_of(request)  # authenticated once, at the edge (portal/auth.py)
    if auth.failure is not None:
        raise auth.failure
    if auth.principal is None:
        return _refused(401, "UNAUTHENTICATED", auth.error or "Sign in to continue.")
    if auth.terms_pending:
        return _refused(403, "TERMS_ACCEPTANCE_REQUIRED", str(TermsAcceptanceRequired()))
    try:
        attachment_id = internal_id(request.path_params["attachment_id"], "Attachment")
    except BadInput:
        return _refused(404, "NOT_FOUND", "No such attachment.")
    async with services.session() as session:
        row = await session.get(m.Attachment, attachment_id)
    try:
        if row is None:
            raise AccessDenied(AccessReason.NOT_A_PATIENT)
        grant = access.access_patient(
            auth.principal, row.patient_id, ATTACHMENT_AREAS[row.purpose], services.settings.ages
        )
    except AccessDenied as denied:
        return _refused(403, "FORBIDDEN", "You may not read this file.", denied.reason.value)
    await services.audit.write(  # before the file leaves: durable
        [
            AuditEntry(
                at=now,
                account_id=grant.account_id,
                actor_name=auth.actor_name,
                patient_id=grant.patient_id,
                acting_as=grant.relationship.value,
                action="read",
                operation="GET /attachments",
                object_types="Attachment",
                request_id=request.state.request_id,
                client_address=request.client.host if request.client else None,
            )
        ],
        services.sessions,
    )
    path = services.files.path(row.storage_key)
    if not await services.files.exists(row.storage_key):
        log.error("attachment %s has no stored file", row.id)
        return _refused(404, "NOT_FOUND", "This file is not available.")
    return FileResponse(
        path,
        media_type=row.content_type,
        filename=row.filename,
        content_disposition_type="attachment",
        headers=SAFE_HEADERS,
    )
