"""A 503 with Retry-After, not a 500, when a route other than /graphql (the EHR feed,
attachment downloads, the immunization PDF) fails because the database is unreachable.

/graphql answers the same way in its own terms (portal/http.py); /readyz says so on purpose.
"""

from __future__ import annotations

import orjson

from portal.errors import SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE


def unavailable_answer(retry_after: int) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The 503 (status, raw headers, body) the edge (portal/edge.py) answers when a route
    fails because the database is unreachable before its response started."""
    body = orjson.dumps(
        {
            "errors": [
                {
                    "message": UNAVAILABLE_MESSAGE,
                    "extensions": {"code": SERVICE_UNAVAILABLE, "retryAfter": retry_after},
                }
            ]
        }
    )
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode()),
    ]
    return 503, headers, body
