"""A 503 with Retry-After, not a 500, when a route other than /graphql (the EHR feed,
attachment downloads, the immunization PDF) fails because the database is unreachable.

/graphql answers the same way in its own terms (portal/http.py); /readyz says so on purpose.
"""

from __future__ import annotations

import logging

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from persistence.db import database_unavailable
from portal.errors import SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE

log = logging.getLogger("portal")


class DatabaseUnavailable:
    def __init__(self, app: ASGIApp, retry_after_seconds: int) -> None:
        self.app = app
        self.retry_after = retry_after_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started or not database_unavailable(exc):
                raise
            log.warning("database unavailable on %s: %s", scope["path"], type(exc).__name__)
            body = orjson.dumps(
                {
                    "errors": [
                        {
                            "message": UNAVAILABLE_MESSAGE,
                            "extensions": {
                                "code": SERVICE_UNAVAILABLE,
                                "retryAfter": self.retry_after,
                            },
                        }
                    ]
                }
            )
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(self.retry_after).encode()),
            ]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": body})
