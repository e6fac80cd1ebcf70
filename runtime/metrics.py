"""Prometheus metrics, served at GET /metrics.

Other parts of the app report through the small functions here (`subscription_delivered(kind)`
for each event sent to a subscriber, ...), never through prometheus_client
directly, so names and labels stay in one place. Label values that a client controls
(operation names) are bounded: past `MAX_OPERATIONS` distinct names, the rest count as
`other`, so a client cannot grow our memory by inventing names.

With several uvicorn workers, set PROMETHEUS_MULTIPROC_DIR (an empty directory) so every
worker's counts are summed at scrape time; without it each worker answers for itself.
"""

from __future__ import annotations

import hmac
import os
import time
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from loaders.base import batch_observers

if TYPE_CHECKING:
    from runtime.services import Services

MAX_OPERATIONS = 200
MAX_CODES = 100
REGISTRY = CollectorRegistry(auto_describe=True)
REGISTRY.register(PROCESS_COLLECTOR)
REGISTRY.register(GC_COLLECTOR)

REQUESTS = Counter(
    "portal_graphql_requests",
    "GraphQL operations served over HTTP, by operation name, type and outcome.",
    ["operation", "type", "outcome"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "portal_graphql_request_duration_seconds",
    "Time to answer a GraphQL operation over HTTP, by operation name.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
ERRORS = Counter(
    "portal_graphql_errors",
    "GraphQL errors sent to clients, by extensions.code.",
    ["code"],
    registry=REGISTRY,
)
HTTP_REFUSALS = Counter(
    "portal_http_refusals",
    "GraphQL HTTP requests refused before execution, by status code.",
    ["status"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "portal_rate_limited",
    "Requests or sign-in attempts refused by a rate limit, by limit.",
    ["limit"],
    registry=REGISTRY,
)
PERSISTED = Counter(
    "portal_persisted_queries",
    "Automatic persisted query lookups: hit, miss (PersistedQueryNotFound), registered.",
    ["result"],
    registry=REGISTRY,
)
WEBSOCKETS = Gauge(
    "portal_websockets_open",
    "WebSocket connections open now.",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
DELIVERIES = Counter(
    "portal_subscription_events_delivered",
    "Subscription events delivered to clients, by event kind.",
    ["kind"],
    registry=REGISTRY,
)
DELIVERY_LATENCY = Histogram(
    "portal_subscription_delivery_seconds",
    "From an event's commit to its send to one subscriber (an event committed by another "
    "instance: from its arrival here).",
    buckets=(0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1),
    registry=REGISTRY,
)
LOADER_BATCHES = Histogram(
    "portal_dataloader_batch_size",
    "Keys per DataLoader batch (one SQL statement each), by loader.",
    ["loader"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
    registry=REGISTRY,
)

_operations: set[str] = set()
_codes: set[str] = set()


def _bounded(value: str, seen: set[str], limit: int) -> str:
    if value in seen:
        return value
    if len(seen) >= limit:
        return "other"
    seen.add(value)
    return value


def operation_label(name: str | None) -> str:
    return _bounded(name or "anonymous", _operations, MAX_OPERATIONS)


# The labelled children, looked up once: `labels()` takes the metric's lock and builds a
# key on every call. Bounded like the labels themselves (operation names past
# MAX_OPERATIONS are "other"; type and outcome are a few words of ours).
_served: dict[tuple[str, str, str], tuple[Any, Any]] = {}
_errors: dict[str, Any] = {}


def request_served(operation: str, kind: str, outcome: str, seconds: float) -> None:
    """`outcome`: ok, errors (executed, some errors) or refused (nothing executed)."""
    key = (operation, kind, outcome)
    children = _served.get(key)
    if children is None:
        children = _served[key] = (REQUESTS.labels(*key), LATENCY.labels(operation))
    children[0].inc()
    children[1].observe(seconds)


def errors_sent(codes: Iterable[str]) -> None:
    for code in codes:
        child = _errors.get(code)
        if child is None:
            child = ERRORS.labels(_bounded(code, _codes, MAX_CODES))
            if len(_errors) < MAX_CODES * 2:
                _errors[code] = child
        child.inc()


def refused(status: int) -> None:
    HTTP_REFUSALS.labels(str(status)).inc()


def rate_limited(limit: str) -> None:
    RATE_LIMITED.labels(limit).inc()


def persisted_query(result: str) -> None:
    PERSISTED.labels(result).inc()


def websocket_opened() -> None:
    """Called by the GraphQL view (portal/http.py) for every WebSocket: not to call again."""
    WEBSOCKETS.inc()


def websocket_closed() -> None:
    WEBSOCKETS.dec()


def subscription_delivered(kind: str) -> None:
    child = _DELIVERY_CHILDREN.get(kind)
    if child is None:
        child = _DELIVERY_CHILDREN[kind] = DELIVERIES.labels(kind)
    child.inc()


def subscription_sent(committed: float) -> None:
    """An event was sent to a subscriber; `committed`: when its commit was learnt of
    (`time.perf_counter()`, 0: unknown)."""
    if committed:
        DELIVERY_LATENCY.observe(time.perf_counter() - committed)


# Each loader's child of LOADER_BATCHES, looked up once (`labels()` takes a lock and builds
# a key on every call; a dashboard runs about seven batches). Loaders are a fixed set.
_LOADER_BATCH_CHILDREN: dict[str, Histogram] = {}
# The same for DELIVERIES, by event kind (a fan-out to 100 counts 100 deliveries).
_DELIVERY_CHILDREN: dict[str, Counter] = {}


def loader_batch(loader: str, size: int) -> None:
    child = _LOADER_BATCH_CHILDREN.get(loader)
    if child is None:
        child = _LOADER_BATCH_CHILDREN[loader] = LOADER_BATCHES.labels(loader)
    child.observe(size)


class _ServicesCollector(Collector):
    """Read at scrape time from the running app: database pool and audit writer."""

    def __init__(self) -> None:
        self._services: weakref.ReferenceType[Services] | None = None

    def watch(self, services: Services) -> None:
        self._services = weakref.ref(services)

    def collect(self) -> Iterable[Metric]:
        services = self._services() if self._services is not None else None
        if services is None:
            return
        pool: Any = services.engine.sync_engine.pool
        for name, doc, read in (
            ("portal_db_pool_size", "Connections the pool keeps.", "size"),
            ("portal_db_pool_checked_out", "Connections in use now.", "checkedout"),
            ("portal_db_pool_overflow", "Connections open beyond the pool size.", "overflow"),
        ):
            method = getattr(pool, read, None)
            if callable(method):
                yield GaugeMetricFamily(name, doc, value=float(method()))
        audit = services.audit
        yield GaugeMetricFamily(
            "portal_audit_pending_entries", "Audit entries not yet written.", value=audit.pending
        )
        yield GaugeMetricFamily(
            "portal_audit_write_lag_seconds",
            "How long the oldest audit entry not yet written has waited.",
            value=audit.lag,
        )
        yield GaugeMetricFamily(
            "portal_audit_last_batch_lag_seconds",
            "How long the oldest entry of the last written audit batch had waited.",
            value=audit.last_lag,
        )


_SERVICES = _ServicesCollector()
REGISTRY.register(_SERVICES)
batch_observers.append(loader_batch)


def watch(services: Services) -> None:
    """Report this app's pool and audit writer (the latest app created in the process)."""
    _SERVICES.watch(services)


async def metrics_endpoint(request: Request) -> Response:
    """GET /metrics (with `METRICS_TOKEN` set, only for `Authorization: Bearer <token>`).
    In production without a token it is not served here but on a loopback-only port
    (portal/metrics_port.py): the public port answers 404, as for any unknown path."""
    services: Services = request.app.state.services
    token = services.settings.http.metrics_token
    if token is None and services.settings.production:
        return Response("Not Found", status_code=404, media_type="text/plain")
    if token is not None and not hmac.compare_digest(
        request.headers.get("authorization", "").encode(), f"Bearer {token}".encode()
    ):
        return Response(
            "metrics need the metrics token\n", status_code=401, media_type="text/plain"
        )
    watch(services)
    body, media_type = render()
    return Response(body, media_type=media_type)


def render() -> tuple[bytes, str]:
    return generate_latest(EXPOSITION), CONTENT_TYPE_LATEST


class _Exposition(Collector):
    """Everything /metrics shows: this process's registry, or with PROMETHEUS_MULTIPROC_DIR
    every worker's counts summed plus this app's pool and audit writer."""

    def collect(self) -> Iterable[Metric]:
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not directory:
            yield from REGISTRY.collect()
            return
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        yield from registry.collect()
        yield from _SERVICES.collect()


EXPOSITION = CollectorRegistry(auto_describe=False)
EXPOSITION.register(_Exposition())
