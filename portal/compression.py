"""Response compression for mobile clients: brotli or gzip, as the client's Accept-Encoding
prefers, for bodies of at least `minimum_size` bytes.

Starlette's GZip responder does the work (small bodies pass untouched, streamed bodies are
compressed chunk by chunk with a flush per chunk, already-encoded and binary image types
are left alone, `Vary: Accept-Encoding` is set); brotli plugs into the same responder. Only
HTTP is touched: WebSockets pass through as they are. Quality is chosen for speed over
size (brotli 5, gzip 6): a GraphQL answer is compressed once, on the request's own time.
"""

from __future__ import annotations

from typing import Any

import brotli
from starlette.middleware.gzip import GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.headers import qualities

BROTLI_QUALITY = 5
GZIP_LEVEL = 6
SUPPORTED = ("br", "gzip")  # our preference when the client likes several equally


def choose_encoding(accept_encoding: str) -> str | None:
    """The coding to answer with (RFC 9110 12.5.3): the supported one the client weighs
    highest (`q=0` refuses it; `*` stands for any not named), ties going to brotli."""
    weights = qualities(accept_encoding)
    best, best_q = None, 0.0
    for coding in SUPPORTED:
        q = weights.get(coding, weights.get("*", 0.0))
        if q > best_q:
            best, best_q = coding, q
    return best


class BrotliResponder(IdentityResponder):
    content_encoding = "br"

    def __init__(self, app: ASGIApp, minimum_size: int) -> None:
        super().__init__(app, minimum_size)
        self._compressor: Any = None

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        if self._compressor is None:
            self._compressor = brotli.Compressor(quality=BROTLI_QUALITY)
        data: bytes = self._compressor.process(body)
        # A streamed chunk is flushed so the client can use it at once.
        data += self._compressor.flush() if more_body else self._compressor.finish()
        return data


def compressed(app: ASGIApp, scope: Scope, minimum_size: int) -> ASGIApp:
    """`app` answering an HTTP request (`minimum_size` > 0) in the coding the client's
    Accept-Encoding prefers: `app` itself when it asks for none we offer."""
    accept_encoding = None
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            accept_encoding = value.decode("latin-1")
            break
    if not accept_encoding:
        # Untouched (no `Vary: Accept-Encoding` either: nothing here may be cached,
        # `Cache-Control: no-store`), at no cost to clients that compress nothing.
        return app
    coding = choose_encoding(accept_encoding)
    if coding == "br":
        return BrotliResponder(app, minimum_size)
    if coding == "gzip":
        return GZipResponder(app, minimum_size, compresslevel=GZIP_LEVEL)
    return app  # nothing we offer: untouched, as above


class Compression:
    """`compressed` as a middleware (the edge, portal/edge.py, calls it directly)."""

    def __init__(self, app: ASGIApp, minimum_size: int) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.minimum_size <= 0:
            await self.app(scope, receive, send)
            return
        await compressed(self.app, scope, self.minimum_size)(scope, receive, send)
