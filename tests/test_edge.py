"""The one edge layer (portal/edge.py): what the middlewares it replaced did, it does on
every path; and HTTP requests to /graphql reach the view past the router, authenticated."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.edge import Edge
from tests.conftest import ALEX, Portal

QUERY = "query Me { viewer { account { username } } }"


class Unreachable(ConnectionRefusedError):
    """What a route sees when the database refuses connections."""


async def database_down(_request: Request) -> Response:
    raise Unreachable("connection refused")


async def bug(_request: Request) -> Response:
    raise RuntimeError("a secret detail of a bug")


def client_of(portal: Portal, **routes: Any) -> httpx.AsyncClient:
    """A client of the portal's app with `routes` added, its exceptions not raised in the
    test (as a server does: it logs them)."""
    app: Any = portal.client._transport.app  # type: ignore[attr-defined]
    for path, endpoint in routes.items():
        app.router.routes.append(Route(f"/{path}", endpoint))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://portal.test")


def assert_edge_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert len(response.headers["x-request-id"]) == 32


async def test_a_route_whose_database_is_down_answers_503_with_retry_after(
    portal: Portal,
) -> None:
    async with client_of(portal, down=database_down) as client:
        response = await client.get("/down")
    assert response.status_code == 503
    seconds = portal.services.settings.http.unavailable_retry_after_seconds
    assert response.headers["retry-after"] == str(seconds)
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE", "retryAfter": seconds}
    assert_edge_headers(response)


async def test_a_bug_in_a_route_is_a_plain_500_without_its_details(portal: Portal) -> None:
    async with client_of(portal, bug=bug) as client:
        response = await client.get("/bug", headers={"x-request-id": "req-bug-0001"})
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert "secret" not in response.text
    assert response.headers["x-request-id"] == "req-bug-0001"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_bug_is_raised_again_for_the_servers_log() -> None:
    from runtime.http_settings import HttpSettings

    async def failing(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("for the log")

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    edge = Edge(failing, graphql=failing, http=HttpSettings())
    scope = {"type": "http", "path": "/graphql", "headers": [], "method": "POST"}
    with pytest.raises(RuntimeError, match="for the log"):
        await edge(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 500


async def test_graphql_behind_a_root_path_is_served_by_the_router_alike(portal: Portal) -> None:
    """The edge's direct way to the view is for `/graphql` at the root; mounted under a
    prefix the router serves it, behind the same authentication."""
    token = await portal.token(ALEX)
    headers = {"authorization": f"Bearer {token}"}
    direct = await portal.client.post("/graphql", json={"query": QUERY}, headers=headers)
    app: Any = portal.client._transport.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        routed = await client.post("/api/graphql", json={"query": QUERY}, headers=headers)
        signed_out = await client.post("/api/graphql", json={"query": QUERY})
    assert direct.status_code == routed.status_code == 200
    assert routed.json() == direct.json()
    assert routed.json()["data"]["viewer"]["account"]["username"] == ALEX
    assert signed_out.json()["data"]["viewer"] is None
    assert_edge_headers(routed)


async def test_graphql_refuses_a_revoked_session_at_once_on_the_direct_way(
    fresh_portal: Portal,
) -> None:
    """The direct way authenticates every request: a token whose session has ended is
    refused on the very next request, though its signature was verified before."""
    portal = fresh_portal
    token = await portal.token(ALEX)
    headers = {"authorization": f"Bearer {token}"}
    first = await portal.client.post("/graphql", json={"query": QUERY}, headers=headers)
    assert first.json()["data"]["viewer"]["account"]["username"] == ALEX
    ended = await portal.client.post(
        "/graphql",
        json={"query": "mutation { signOutEverywhere { ended } }"},
        headers=headers,
    )
    assert "errors" not in ended.json(), ended.text
    again = await portal.client.post("/graphql", json={"query": QUERY}, headers=headers)
    assert again.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_body_in_several_chunks_is_read_whole(portal: Portal) -> None:
    """The view reads the JSON body from `receive` itself: every chunk, in order."""
    body = b'{"query": "query Me { viewer { __typename } }"}'
    chunks = [body[:5], body[5:20], b"", body[20:]]
    app: Any = portal.client._transport.app  # type: ignore[attr-defined]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[Any] = []

    async def receive() -> Any:
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b'{"data":{"viewer":null}}'


async def test_a_websocket_to_graphql_goes_straight_to_the_sockets_app() -> None:
    """Its connection keeps no router, route or middleware frames for its life; any other
    WebSocket path (or `/graphql` under a root path) takes the router; each has its request
    id."""
    from runtime.http_settings import HttpSettings

    reached: list[tuple[str, str]] = []

    def app_named(name: str) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            reached.append((name, scope["state"]["request_id"]))

        return app

    edge = Edge(
        app_named("router"),
        graphql=app_named("graphql view"),
        sockets=app_named("sockets"),
        http=HttpSettings(),
    )

    async def nothing(*_: Any) -> Any:
        return None

    for path, root in (("/graphql", ""), ("/other", ""), ("/api/graphql", "/api")):
        scope = {"type": "websocket", "path": path, "root_path": root, "headers": []}
        await edge(scope, nothing, nothing)
    assert [name for name, _ in reached] == ["sockets", "router", "router"]
    assert all(rid for _, rid in reached)
