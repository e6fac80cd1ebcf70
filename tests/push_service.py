"""A push service for tests, over real HTTP on a loopback port: it checks what a Web Push
service checks (the VAPID JWT signed by the key in the header, RFC 8292) and decrypts the
payload with the subscription's private keys (RFC 8291, `http_ece`), as a browser would; it
also stands in for APNs and FCM (and Google's token endpoint) to check request shapes.

Each path answers from a script of statuses (default 201), so tests can say "gone" (410) or
"try later" (503 with Retry-After).
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import http_ece
import jwt
import orjson
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.mailbox import free_port


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclass
class Browser:
    """A browser's push subscription: its key pair and auth secret (what the page sends us)."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @staticmethod
    def b64(data: bytes) -> str:
        return b64url(data)

    @property
    def p256dh(self) -> str:
        return b64url(
            self.key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        decoded: dict[str, Any] = orjson.loads(plain)
        return decoded


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    claims: dict[str, Any] | None = None  # the verified VAPID JWT
    message: dict[str, Any] | None = None  # the decrypted Web Push payload


class PushService:
    def __init__(self, vapid_public_key: str, subject: str) -> None:
        self.vapid_public_key = vapid_public_key
        self.subject = subject
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.browsers: dict[str, Browser] = {}
        self.script: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.received: list[Received] = []
        self.refused: list[str] = []
        self.json_answers: dict[str, Any] = {}

    def subscribe(self, name: str) -> tuple[str, Browser]:
        browser = Browser()
        self.browsers[name] = browser
        return f"{self.origin}/push/{name}", browser

    def answer(self, path: str, *statuses: int | tuple[int, dict[str, str]]) -> None:
        self.script[path] = [s if isinstance(s, tuple) else (s, {}) for s in statuses]

    def _next(self, path: str, default: int) -> tuple[int, dict[str, str]]:
        queue = self.script.get(path)
        return queue.pop(0) if queue else (default, {})

    def verify_vapid(self, authorization: str, audience: str) -> dict[str, Any]:
        scheme, _, params = authorization.partition(" ")
        assert scheme == "vapid", authorization
        parts = dict(p.strip().split("=", 1) for p in params.split(","))
        assert parts["k"] == self.vapid_public_key  # signed by the key browsers subscribed to
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
        claims: dict[str, Any] = jwt.decode(
            parts["t"], public, algorithms=["ES256"], audience=audience
        )
        assert claims["sub"] == self.subject
        return claims

    async def web_push(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            claims = self.verify_vapid(headers.get("authorization", ""), self.origin)
            assert headers["content-encoding"] == "aes128gcm"
            assert int(headers["ttl"]) > 0
            message = self.browsers[name].decrypt(body)
        except Exception as exc:  # a real push service refuses what it cannot verify
            self.refused.append(f"{type(exc).__name__}: {exc}")
            return Response(status_code=403)
        status, extra = self._next(request.url.path, 201)
        self.received.append(Received(request.url.path, headers, body, claims, message))
        return Response(status_code=status, headers=extra)

    async def recorded(self, request: Request) -> Response:
        """APNs, FCM and the token endpoint: keep the request, answer from the script."""
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.received.append(Received(request.url.path, headers, body))
        status, extra = self._next(request.url.path, 200)
        answer = self.json_answers.get(request.url.path, {})
        return JSONResponse(answer, status_code=status, headers=extra)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/push/{name}", self.web_push, methods=["POST"]),
                Route("/{rest:path}", self.recorded, methods=["POST"]),
            ]
        )


@asynccontextmanager
async def running(service: PushService) -> AsyncIterator[PushService]:
    config = uvicorn.Config(
        service.app(),
        host="127.0.0.1",
        port=service.port,
        log_level="warning",
        lifespan="off",
        ws="none",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.01)
    try:
        yield service
    finally:
        server.should_exit = True
        await task
