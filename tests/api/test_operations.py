"""Health checks, request ids, and errors that never leak internals."""

from __future__ import annotations

from pathlib import Path

import httpx

from domain.clock import FixedClock
from persistence.db import create_engine
from portal.app import create_app
from runtime.services import build_services
from tests.conftest import ALEX, NOW, Portal, settings_for

DASHBOARD = "query Home { viewer { patients { patient { name { display } } } } }"


async def test_healthz_and_readyz(portal: Portal) -> None:
    assert (await portal.client.get("/healthz")).text == "ok"
    ready = await portal.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": True}


async def test_every_response_has_a_request_id(portal: Portal) -> None:
    first = await portal.client.get("/healthz")
    second = await portal.client.post("/graphql", json={"query": "{ viewer { account { id } } }"})
    ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(ids) == 2
    echoed = await portal.client.get("/healthz", headers={"x-request-id": "client-trace-0001"})
    assert echoed.headers["x-request-id"] == "client-trace-0001"


async def _client_on(url: str) -> tuple[httpx.AsyncClient, object]:
    engine = create_engine(url)
    services = build_services(settings_for(url), FixedClock(NOW), engine=engine)
    app = create_app(services=services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t"), services


async def test_database_failure_is_masked_with_request_id(portal: Portal, tmp_path: Path) -> None:
    # An empty database (no tables): every read fails inside SQLAlchemy.
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    client, services = await _client_on(url)
    token = await portal.token(ALEX)
    async with client:
        response = await client.post(
            "/graphql", json={"query": DASHBOARD}, headers={"authorization": f"Bearer {token}"}
        )
        ready = await client.get("/readyz")
    body = response.json()
    request_id = response.headers["x-request-id"]
    assert body["data"] is None or body["data"]["viewer"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert request_id in error["message"]
    text = response.text.lower()
    for leak in ("select", "sqlite", "traceback", "no such table", ".py", str(tmp_path).lower()):
        assert leak not in text
    # The database answers SELECT 1, so the process is ready; the schema problem is logged.
    assert ready.status_code == 200
    await services.engine.dispose()  # type: ignore[attr-defined]


async def test_readyz_fails_when_database_is_unreachable() -> None:
    client, services = await _client_on("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    async with client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": False}
    await services.engine.dispose()  # type: ignore[attr-defined]


async def test_malformed_global_id_is_bad_user_input(portal: Portal) -> None:
    result = await portal.gql('{ node(id: "%%%") { id } }', as_user=ALEX)
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    result = await portal.gql('{ patient(id: "UHJvdmlkZXI6cHJ2LTAwMDAx") { id } }', as_user=ALEX)
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
