"""The request id, security and cache headers on every HTTP response (one middleware,
`EdgeHeaders`), and GraphiQL's Content-Security-Policy.

- `X-Request-Id`: the client's if it sent one of 8 to 64 ASCII characters, else a new one;
  on WebSockets too (in the logs, not in a header).
- `Cache-Control: no-store` unless the response chose its own: GraphQL answers, attachments
  and PDFs carry health data that no browser or proxy cache may keep (GET queries included).
- `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` everywhere.
- `Strict-Transport-Security` when the request came over HTTPS: directly, or through a
  proxy uvicorn trusts (FORWARDED_ALLOW_IPS), whose `X-Forwarded-Proto` sets the scheme.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterable
from functools import lru_cache

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.logs import request_id_var

REQUEST_ID = b"x-request-id"
HSTS = b"strict-transport-security"
ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)


def qualities(header: str) -> dict[str, float]:
    """An Accept-style header (`Accept`, `Accept-Encoding`) as {lower-case value: q}: q is 1
    when not given, 0 when it is not a number; a value named twice keeps its highest q."""
    found: dict[str, float] = {}
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if not name:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        name = name.lower()
        found[name] = max(q, found.get(name, 0.0))
    return found


class EdgeHeaders:
    """One layer for what every response carries: the request id (the client's, if it sent
    a sane one, else a new one; kept in `scope["state"]` and `request_id_var` for the logs)
    and the security headers. Response headers are raw pairs (on every response, so kept
    cheap); a header the route set itself (an attachment's Cache-Control) is kept."""

    def __init__(self, app: ASGIApp, hsts_max_age: int) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age}".encode() if hsts_max_age > 0 else None
        self.https_added = ALWAYS if self.hsts is None else (*ALWAYS, (HSTS, self.hsts))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope["headers"])
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        try:
            if kind == "websocket":
                await self.app(scope, receive, send)
                return
            id_header = (REQUEST_ID, request_id.encode())
            added = self.https_added if scope.get("scheme") == "https" else ALWAYS

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", ()))
                    present = {name.lower() for name, _ in headers}
                    headers.extend(pair for pair in added if pair[0] not in present)
                    headers.append(id_header)
                    message["headers"] = headers
                await send(message)

            await self.app(scope, receive, send_with_headers)
        finally:
            request_id_var.reset(token)


def _request_id(headers: Iterable[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == REQUEST_ID:
            incoming = value.decode("latin-1")
            if 8 <= len(incoming) <= 64 and incoming.isascii():
                return incoming
            break
    return os.urandom(16).hex()  # 32 hex digits, as a uuid4's hex, for a quarter of its cost


_SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc=\"([^\"]+)\"", re.IGNORECASE)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.IGNORECASE | re.DOTALL)
_STYLESHEET = re.compile(r"<link\b[^>]*\bhref=\"(https://[^\"]+\.css)\"", re.IGNORECASE)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@lru_cache(maxsize=4)
def graphiql_csp(html: str) -> str:
    """A policy for the GraphiQL page that allows exactly what this page loads: its scripts
    by full URL (each also pinned by its Subresource Integrity hash in the page), its inline
    script by hash, its stylesheets by URL; requests only to this origin (queries over
    fetch, subscriptions over a WebSocket); nothing else, no framing.

    Inline styles stay allowed: GraphiQL's editor sets `style` attributes, and a style
    cannot run code."""
    scripts = [*_SCRIPT_SRC.findall(html), *(_sha256(s) for s in _INLINE_SCRIPT.findall(html))]
    styles = [*_STYLESHEET.findall(html), "'unsafe-inline'"]
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(scripts),
            "style-src " + " ".join(styles),
            "img-src data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
