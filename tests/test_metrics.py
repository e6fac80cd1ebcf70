"""Operating it: Prometheus metrics at /metrics and JSON log lines with the request id."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from domain.clock import FixedClock
from persistence.audit import AuditEntry
from portal.app import create_app
from portal.logs import JsonFormatter, RequestIdFilter
from runtime import metrics
from runtime.http_settings import HttpSettings
from runtime.services import build_services
from tests.conftest import (
    ACCOUNT_IDS,
    ALEX,
    NOW,
    Database,
    Portal,
    _portal,
    settings_for,
)
from tests.front import portal_on

HOME = """query Home { viewer { patients { patient { name { display }
  appointments(first: 3) { nodes { id provider { name } } } } } } }"""


async def scrape(portal: Portal) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await portal.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_requests_latency_and_errors_per_operation(portal: Portal) -> None:
    before = await scrape(portal)
    await portal.gql(HOME, as_user=ALEX)
    await portal.gql('query Broken { node(id: "%%%") { id } }', as_user=ALEX)
    after = await scrape(portal)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("portal_graphql_requests_total", operation="Home", type="query", outcome="ok") == 1
    assert delta("portal_graphql_request_duration_seconds_count", operation="Home") == 1
    assert delta("portal_graphql_request_duration_seconds_sum", operation="Home") > 0
    assert (
        delta("portal_graphql_requests_total", operation="Broken", type="query", outcome="errors")
        == 1
    )
    assert delta("portal_graphql_errors_total", code="BAD_USER_INPUT") == 1


async def test_refusals_and_rate_limits_are_counted(seeded_db: Database) -> None:
    from runtime.http_settings import Rate, RateLimits

    settings = HttpSettings(rates=RateLimits(requests_per_account=Rate(1, 60)))
    async with portal_on(seeded_db, http=settings) as portal:
        before = await scrape(portal)
        headers = {"authorization": f"Bearer {await portal.token(ALEX)}"}
        for _ in range(2):
            await portal.client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        await portal.client.post(
            "/graphql", content=b"{", headers={"content-type": "application/json"}
        )
        after = await scrape(portal)
        for name, labels in [
            ("portal_rate_limited_total", {"limit": "requests_per_account"}),
            ("portal_http_refusals_total", {"status": "429"}),
            ("portal_http_refusals_total", {"status": "400"}),
            ("portal_graphql_errors_total", {"code": "RATE_LIMITED"}),
        ]:
            assert value(after, name, **labels) - value(before, name, **labels) == 1, name


async def test_dataloader_batches_and_the_database_pool(portal: Portal) -> None:
    before = await scrape(portal)
    await portal.gql(HOME, as_user=ALEX)
    after = await scrape(portal)
    name = "portal_dataloader_batch_size_count"
    loaders = {dict(labels)["loader"] for (n, labels) in after if n == name}
    grown = {
        loader
        for loader in loaders
        if value(after, name, loader=loader) > value(before, name, loader=loader)
    }
    # The appointments of every patient: one batch (their providers come with them).
    assert "AppointmentPageByPatientLoader" in grown
    assert ("portal_db_pool_checked_out", ()) in after
    assert value(after, "portal_db_pool_size") >= 0


async def test_audit_write_lag(portal: Portal) -> None:
    await portal.services.audit.flush()
    assert value(await scrape(portal), "portal_audit_pending_entries") == 0
    assert value(await scrape(portal), "portal_audit_write_lag_seconds") == 0
    # A subscription delivery queues its audit entry (a request's own are written before
    # its response leaves, so they never wait here).
    portal.services.audit.submit(
        [
            AuditEntry(
                at=portal.clock.now(),
                account_id=ACCOUNT_IDS[ALEX],
                actor_name="Alex Rivera",
                patient_id="pat-0000001",
                acting_as="self",
                action="read",
                operation="messageReceived",
                object_types="Message",
                request_id=None,
                client_address=None,
            )
        ]
    )
    waiting = await scrape(portal)
    assert value(waiting, "portal_audit_pending_entries") >= 1
    assert value(waiting, "portal_audit_write_lag_seconds") > 0
    await portal.services.audit.flush()
    written = await scrape(portal)
    assert value(written, "portal_audit_pending_entries") == 0
    assert value(written, "portal_audit_write_lag_seconds") == 0
    assert value(written, "portal_audit_last_batch_lag_seconds") > 0


async def test_websockets_and_subscription_deliveries(portal: Portal) -> None:
    before = await scrape(portal)
    metrics.websocket_opened()
    metrics.websocket_opened()
    metrics.websocket_closed()
    metrics.subscription_delivered("MESSAGE_RECEIVED")
    after = await scrape(portal)
    assert value(after, "portal_websockets_open") - value(before, "portal_websockets_open") == 1
    name, kind = "portal_subscription_events_delivered_total", {"kind": "MESSAGE_RECEIVED"}
    assert value(after, name, **kind) - value(before, name, **kind) == 1
    metrics.websocket_closed()


def test_label_values_a_client_chooses_are_bounded() -> None:
    seen: set[str] = set()
    labels = [metrics._bounded(f"Op{i}", seen, 3) for i in range(5)]
    assert labels == ["Op0", "Op1", "Op2", "other", "other"]
    assert metrics._bounded("Op1", seen, 3) == "Op1"


@pytest.fixture
async def guarded(seeded_db: Database) -> AsyncIterator[Portal]:
    async for portal in _portal(seeded_db, http=HttpSettings(metrics_token="scrape-token-123")):
        yield portal


async def test_a_metrics_token_guards_the_endpoint(guarded: Portal) -> None:
    assert (await guarded.client.get("/metrics")).status_code == 401
    wrong = await guarded.client.get("/metrics", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = await guarded.client.get(
        "/metrics", headers={"authorization": "Bearer scrape-token-123"}
    )
    assert right.status_code == 200
    assert "portal_graphql_requests_total" in right.text


# -- logs ----------------------------------------------------------------------------------
@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("portal")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_each_request_logs_one_json_line_with_its_request_id(
    portal: Portal, json_log: io.StringIO
) -> None:
    response = await portal.client.post(
        "/graphql",
        json={"query": HOME},
        headers={
            "authorization": f"Bearer {await portal.token(ALEX)}",
            "x-request-id": "trace-0042-abc",
        },
    )
    assert response.headers["x-request-id"] == "trace-0042-abc"
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    [access] = [line for line in lines if line["logger"] == "portal.http"]
    assert access["request_id"] == "trace-0042-abc"
    assert access["operation"] == "Home"
    assert access["status"] == 200
    assert access["method"] == "POST"
    assert access["duration_ms"] > 0
    assert access["level"] == "INFO"


async def test_every_open_websocket_is_counted(tmp_path: Path) -> None:
    """A WebSocket handshake straight through the ASGI app: counted while it is open."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ws.db'}"
    services = build_services(settings_for(url), FixedClock(NOW))
    app = create_app(services=services)
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outgoing: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"portal.test")],
        "subprotocols": ["graphql-transport-ws"],
        "client": ("127.0.0.1", 5000),
        "server": ("portal.test", 80),
        "scheme": "ws",
    }

    def open_now() -> float:
        return metrics.REGISTRY.get_sample_value("portal_websockets_open") or 0.0

    before = open_now()
    await incoming.put({"type": "websocket.connect"})
    task = asyncio.create_task(app(scope, incoming.get, outgoing.put))
    accepted = await asyncio.wait_for(outgoing.get(), 5)
    assert accepted["type"] == "websocket.accept"
    assert open_now() == before + 1
    await incoming.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(task, 5)
    assert open_now() == before
    await services.engine.dispose()
