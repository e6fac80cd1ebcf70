"""The edge's HTTP protections (docs/http-security.md): cache and security headers, GraphiQL's
Content-Security-Policy, HSTS over HTTPS (direct or via a trusted proxy), metrics not open
in production, CORS and the WebSocket Origin from one allow-list, compression."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest
import websockets
from websockets.typing import Origin, Subprotocol

from portal.app import create_app
from portal.compression import choose_encoding
from runtime.config import from_env
from tests.conftest import ALEX, TEST_HTTP, Database, Portal, make_database, patient_gid
from tests.front import portal_on
from tests.realtime.harness import TRANSPORT_WS, Server, free_port

WEB_APP = "https://app.example.org"
ELSEWHERE = "https://elsewhere.example"
PRODUCTION_ENV = {
    "PORTAL_ENV": "production",
    "JWT_SECRET": "a-production-secret-of-32-characters-or-more",
    "INTEGRATION_TOKEN": "an-integration-token-of-32-characters-or-more",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": "9",
    "APPOINTMENT_REMINDER_INTERVAL_SECONDS": "0",
}
QUERY = "query Me { viewer { account { username } } }"
# A few kilobytes of JSON: every provider's name and department.
PROVIDERS = "query P { providers(first: 100) { nodes { id name department { name } } } }"


async def bearer(portal: Portal) -> dict[str, str]:
    return {"authorization": f"Bearer {await portal.token(ALEX)}"}


# -- headers on every response ---------------------------------------------------------------
async def every_kind_of_response(portal: Portal) -> dict[str, httpx.Response]:
    client = portal.client
    return {
        "graphql POST": await client.post(
            "/graphql", json={"query": QUERY}, headers=(await bearer(portal))
        ),
        "graphql GET": await client.get(
            "/graphql", params={"query": QUERY}, headers=(await bearer(portal))
        ),
        "graphql refused": await client.post(
            "/graphql", content=b"{", headers=(await bearer(portal))
        ),
        "attachment": await client.get("/attachments/att-nope", headers=(await bearer(portal))),
        "pdf": await client.get(
            "/patients/pat-0000001/immunizations.pdf", headers=(await bearer(portal))
        ),
        "healthz": await client.get("/healthz"),
        "not found": await client.get("/nothing-here"),
    }


async def test_every_response_says_nosniff_no_referrer_and_no_store(portal: Portal) -> None:
    responses = await every_kind_of_response(portal)
    for what, response in responses.items():
        assert response.headers["x-content-type-options"] == "nosniff", what
        assert response.headers["referrer-policy"] == "no-referrer", what
        assert "no-store" in response.headers["cache-control"], what
        assert "strict-transport-security" not in response.headers, what  # plain HTTP
    pdf_url = f"/patients/{patient_gid('pat-0000001')}/immunizations.pdf"
    pdf = await portal.client.get(pdf_url, headers=(await bearer(portal)))
    assert pdf.status_code == 200
    assert "no-store" in pdf.headers["cache-control"]


async def test_hsts_over_https(portal: Portal) -> None:
    transport = portal.client._transport
    async with httpx.AsyncClient(transport=transport, base_url="https://portal.test") as client:
        response = await client.post(
            "/graphql", json={"query": QUERY}, headers=(await bearer(portal))
        )
    assert response.status_code == 200
    assert response.headers["strict-transport-security"] == "max-age=31536000"


@pytest.mark.parametrize(("trusted", "hsts"), [("127.0.0.1", True), ("192.0.2.1", False)])
async def test_hsts_behind_a_trusted_proxy_only(tmp_path: Path, trusted: str, hsts: bool) -> None:
    """`portal serve`: our client is the proxy at 127.0.0.1 saying the client used HTTPS."""
    database = await make_database("sqlite", tmp_path, None)
    server = await Server(database.url, tmp_path, {"FORWARDED_ALLOW_IPS": trusted}).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
            proxied = await client.get("/healthz", headers={"x-forwarded-proto": "https"})
            direct = await client.get("/healthz")
    finally:
        await server.stop()
    assert ("strict-transport-security" in proxied.headers) is hsts
    assert "strict-transport-security" not in direct.headers


# -- GraphiQL -------------------------------------------------------------------------------
def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


async def test_graphiql_has_a_strict_content_security_policy(portal: Portal) -> None:
    page = await portal.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    policy = directives(page.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    scripts = policy["script-src"]
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts
    # Exactly what the page loads: each external script by its full URL, the inline one by
    # its hash, and nothing more.
    external = re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', page.text)
    inline = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in inline
    ]
    assert external
    assert hashes
    assert sorted(scripts) == sorted(external + hashes)
    assert all(url.startswith("https://") for url in external)


# -- metrics ----------------------------------------------------------------------------------
@pytest.fixture
async def production_app(tmp_path: Path) -> AsyncIterator[Any]:
    apps = []

    async def make(**env: str) -> httpx.AsyncClient:
        url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
        app = create_app(settings=from_env({**PRODUCTION_ENV, "DATABASE_URL": url, **env}))
        apps.append(app)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p")

    yield make
    for app in apps:
        await app.state.services.engine.dispose()


async def test_production_does_not_serve_metrics_publicly_without_a_token(
    production_app: Any,
) -> None:
    async with await production_app() as client:
        assert (await client.get("/metrics")).status_code == 404
    async with await production_app(METRICS_TOKEN="a-metrics-token") as client:
        assert (await client.get("/metrics")).status_code == 401
        allowed = await client.get("/metrics", headers={"authorization": "Bearer a-metrics-token"})
        assert allowed.status_code == 200


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on `port` (Linux /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, _, hex_port = local.partition(":")
        if int(hex_port, 16) == port and state == "0A":  # LISTEN
            found.add(".".join(str(b) for b in reversed(bytes.fromhex(address))))
    return found


async def test_production_serves_metrics_on_a_loopback_port(tmp_path: Path) -> None:
    database = await make_database("sqlite", tmp_path, None)
    port = free_port()
    env = {**PRODUCTION_ENV, "METRICS_PORT": str(port)}
    server = await Server(database.url, tmp_path, env).start()
    try:
        async with httpx.AsyncClient(timeout=20) as client:
            await client.post(f"{server.url}/graphql", json={"query": "{ __typename }"})
            public = await client.get(f"{server.url}/metrics")
            private = await client.get(f"http://127.0.0.1:{port}/metrics")
    finally:
        await server.stop()
    assert public.status_code == 404
    assert private.status_code == 200
    assert "portal_graphql_requests_total" in private.text
    assert listening_addresses(port) == set()  # closed with the app


async def test_the_loopback_metrics_port_listens_on_loopback_only(tmp_path: Path) -> None:
    from portal import metrics_port

    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    port = free_port()
    settings = from_env({**PRODUCTION_ENV, "DATABASE_URL": url, "METRICS_PORT": str(port)})
    app = create_app(settings=settings)
    running = metrics_port.start(app.state.services)
    try:
        assert running is not None
        assert listening_addresses(port) == {"127.0.0.1"}
        # A second worker of the same app cannot bind it and goes on without.
        assert metrics_port.start(app.state.services) is None
    finally:
        metrics_port.stop(running)
        await app.state.services.engine.dispose()
    outside_production = replace(settings, env="development")
    assert metrics_port.start(replace(app.state.services, settings=outside_production)) is None


# -- CORS and the WebSocket Origin ------------------------------------------------------------
@pytest.fixture
async def cors(seeded_db: Database) -> AsyncIterator[Portal]:
    async with portal_on(seeded_db, http=replace(TEST_HTTP, cors_origins=(WEB_APP,))) as portal:
        yield portal


def preflight(origin: str) -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }


async def test_a_preflight_from_the_web_client_is_answered(cors: Portal) -> None:
    response = await cors.client.options("/graphql", headers=preflight(WEB_APP))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == WEB_APP
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers
    assert "content-type" in allowed_headers
    # Bearer tokens, never cookies: no credentials mode, and never `*`.
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_preflight_from_another_origin_is_refused(cors: Portal) -> None:
    response = await cors.client.options("/graphql", headers=preflight(ELSEWHERE))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_only_the_web_clients_origin_may_read_answers(cors: Portal) -> None:
    body = {"query": QUERY}
    allowed = await cors.client.post("/graphql", json=body, headers={"origin": WEB_APP})
    assert allowed.headers["access-control-allow-origin"] == WEB_APP
    assert "access-control-allow-credentials" not in allowed.headers
    assert "x-request-id" in allowed.headers["access-control-expose-headers"].lower()
    other = await cors.client.post("/graphql", json=body, headers={"origin": ELSEWHERE})
    assert "access-control-allow-origin" not in other.headers


async def test_without_a_list_no_origin_is_allowed(portal: Portal) -> None:
    response = await portal.client.options("/graphql", headers=preflight(WEB_APP))
    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers
    answer = await portal.client.post(
        "/graphql", json={"query": QUERY}, headers={"origin": WEB_APP}
    )
    assert "access-control-allow-origin" not in answer.headers


@pytest.mark.parametrize("value", ["*", "app.example.org", "https://app.example.org/path"])
def test_cors_origins_must_be_a_list_of_origins(value: str) -> None:
    with pytest.raises(ValueError, match="CORS_ORIGINS"):
        from_env({"CORS_ORIGINS": value})


def test_cors_origins_are_read_as_browsers_send_them() -> None:
    settings = from_env({"CORS_ORIGINS": "https://App.Example.org:443, http://localhost:3000"})
    assert settings.http.cors_origins == (WEB_APP, "http://localhost:3000")


async def test_the_websocket_origin_is_checked_against_the_same_list(tmp_path: Path) -> None:
    database = await make_database("sqlite", tmp_path, None)
    server = await Server(database.url, tmp_path, {"CORS_ORIGINS": WEB_APP}).start()
    protocols = [Subprotocol(TRANSPORT_WS)]
    try:
        allowed = await websockets.connect(
            server.ws_url, subprotocols=protocols, origin=Origin(WEB_APP)
        )
        await allowed.close()
        native = await websockets.connect(server.ws_url, subprotocols=protocols)  # no Origin
        await native.close()
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(
                server.ws_url, subprotocols=protocols, origin=Origin(ELSEWHERE)
            )
        assert refused.value.response.status_code == 403  # refused before the accept
    finally:
        await server.stop()


# -- compression -----------------------------------------------------------------------------
async def raw_post(
    portal: Portal, query: str, accept_encoding: str
) -> tuple[httpx.Response, bytes]:
    """The answer and its body as sent (httpx would decode it)."""
    headers = {**(await bearer(portal)), "accept-encoding": accept_encoding}
    request = portal.client.build_request(
        "POST", "/graphql", json={"query": query}, headers=headers
    )
    response = await portal.client.send(request, stream=True)
    try:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    finally:
        await response.aclose()
    return response, raw


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("br;q=0, gzip;q=0", None),
        ("identity", None),
        ("", None),
        ("*", "br"),
    ],
)
async def test_large_answers_are_compressed_as_the_client_asks(
    portal: Portal, accept_encoding: str, coding: str | None
) -> None:
    _, plain = await raw_post(portal, PROVIDERS, "identity")
    assert len(plain) > 2_000
    response, sent = await raw_post(portal, PROVIDERS, accept_encoding)
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding
    if coding is not None:
        assert "accept-encoding" in response.headers["vary"].lower()
    assert int(response.headers["content-length"]) == len(sent)
    body = sent
    if coding == "gzip":
        body = gzip.decompress(sent)
    elif coding == "br":
        body = brotli.decompress(sent)
    if coding is not None:
        assert len(sent) < len(plain) / 2
    assert json.loads(body) == json.loads(plain)


async def test_small_answers_are_not_compressed(portal: Portal) -> None:
    response, sent = await raw_post(portal, "{ __typename }", "gzip, br")
    assert "content-encoding" not in response.headers
    assert sent == b'{"data":{"__typename":"Query"}}'


def test_choose_encoding() -> None:
    assert choose_encoding("") is None
    assert choose_encoding("deflate") is None
    assert choose_encoding("gzip;q=0.9, br;q=0.8") == "gzip"
    assert choose_encoding("*;q=0.5, gzip;q=0") == "br"
    assert choose_encoding("GZIP") == "gzip"
    assert choose_encoding("br;q=bogus, gzip") == "gzip"


async def streamed(scope: Any, receive: Any, send: Any) -> None:
    """A response sent in three chunks, as a file download is."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    for index in range(3):
        chunk = f"chunk {index} ".encode() * 300
        await send({"type": "http.response.body", "body": chunk, "more_body": index < 2})


@pytest.mark.parametrize("coding", ["gzip", "br"])
async def test_a_streamed_body_is_compressed_chunk_by_chunk(coding: str) -> None:
    """Driven as a server drives it (httpx's ASGI transport would gather the chunks)."""
    from portal.compression import Compression

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(b"accept-encoding", coding.encode())],
    }
    await Compression(streamed, minimum_size=1024)(scope, receive, send)
    start, *bodies = sent
    headers = dict(start["headers"])
    assert headers[b"content-encoding"] == coding.encode()
    assert b"content-length" not in headers
    # Each chunk goes out as it comes, compressed and flushed, so a client can use it.
    assert len(bodies) == 3
    assert all(b["body"] for b in bodies)
    raw = b"".join(b["body"] for b in bodies)
    body = gzip.decompress(raw) if coding == "gzip" else brotli.decompress(raw)
    assert body == b"".join(f"chunk {i} ".encode() * 300 for i in range(3))
