"""`portal serve` behind a proxy: FORWARDED_ALLOW_IPS names the proxies whose X-Forwarded-For
is believed, so the per-address sign-in limit counts the client, not the router."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from portal import cli
from tests.conftest import make_database
from tests.realtime.harness import Client, Server

SIGN_IN = """mutation { signIn(input: {username: "nobody.here", password: "wrong-password"}) {
  errors { code } } }"""


def served_with(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **options: seen.update(options))
    assert cli.cmd_serve(cli.build_parser().parse_args(["serve", *argv])) == 0
    return seen


def test_forwarded_allow_ips_is_passed_to_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.0/8")
    options = served_with(monkeypatch, [])
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "10.0.0.0/8"
    flagged = served_with(monkeypatch, ["--forwarded-allow-ips", "*"])
    assert flagged["forwarded_allow_ips"] == "*"


def test_without_it_uvicorns_default_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    assert served_with(monkeypatch, [])["forwarded_allow_ips"] is None  # the local host


async def sign_in_statuses(server: Server, forwarded_for: list[str]) -> list[int]:
    statuses = []
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        for address in forwarded_for:
            response = await client.post(
                "/graphql", json={"query": SIGN_IN}, headers={"x-forwarded-for": address}
            )
            statuses.append(response.status_code)
    return statuses


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        # Our test client is the "proxy" at 127.0.0.1: each forwarded client has its own limit.
        ("127.0.0.1", [200, 200, 429, 200]),
        # A proxy we do not trust: its header is ignored, every attempt is the peer's.
        ("192.0.2.1", [200, 200, 429, 429]),
    ],
)
async def test_the_sign_in_limit_counts_the_forwarded_client(
    tmp_path: Path, trusted: str, expected: list[int]
) -> None:
    database = await make_database("sqlite", tmp_path, None)
    env = {"RATE_SIGN_IN_PER_ADDRESS": "2/300", "FORWARDED_ALLOW_IPS": trusted}
    server = await Server(database.url, tmp_path, env).start()
    try:
        first, second = "203.0.113.1", "203.0.113.2"
        assert await sign_in_statuses(server, [first, first, first, second]) == expected
    finally:
        await server.stop()


async def test_websockets_are_not_compressed(tmp_path: Path) -> None:
    """permessage-deflate would keep a zlib compressor and decompressor per socket for its
    whole life; a client offering it (websockets does by default) is not given it."""
    database = await make_database("sqlite", tmp_path, None)
    server = await Server(database.url, tmp_path, {}).start()
    try:
        client = await Client.open(server)
        try:
            assert client.ws.request is not None
            assert client.ws.response is not None
            offered = client.ws.request.headers.get("Sec-WebSocket-Extensions", "")
            assert "permessage-deflate" in offered
            assert "Sec-WebSocket-Extensions" not in client.ws.response.headers
        finally:
            await client.ws.close()
    finally:
        await server.stop()
