"""The request id, security and cache headers on every HTTP response (added by the one
edge layer, portal/edge.py), and GraphiQL's Content-Security-Policy.

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

REQUEST_ID = b"x-request-id"
HSTS = b"strict-transport-security"
ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)
ADDED_NAMES = frozenset({*(name for name, _ in ALWAYS), HSTS})


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


def edge_headers(
    headers: Iterable[tuple[bytes, bytes]],
    added: tuple[tuple[bytes, bytes], ...],
    id_header: tuple[bytes, bytes],
) -> list[tuple[bytes, bytes]]:
    """A response's raw headers with the edge's added: those of `added` the route did not
    set itself (an attachment's Cache-Control is kept), and the request id."""
    headers = list(headers)
    present = {name.lower() for name, _ in headers}
    if present.isdisjoint(ADDED_NAMES):  # the usual case: nothing of ours set by the route
        headers += added
    else:
        headers.extend(pair for pair in added if pair[0] not in present)
    headers.append(id_header)
    return headers


def request_id(headers: Iterable[tuple[bytes, bytes]]) -> str:
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
