"""/metrics on a loopback-only port, for production without METRICS_TOKEN.

Metrics tell an outsider a lot (operation names, error codes, pool sizes, traffic), so
production never serves them unauthenticated on the public port: either METRICS_TOKEN is
set and the public /metrics asks for it, or they are served here, on 127.0.0.1 only, for a
scraper or sidecar on the same host (METRICS_PORT, 9464 by default; 0 turns it off).

prometheus_client's own small HTTP server runs it in a thread. With several uvicorn
workers the first to bind the port serves it; the others log that and go on (set
PROMETHEUS_MULTIPROC_DIR so the one that serves sums every worker's counts).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

from runtime import metrics
from runtime.services import Services

log = logging.getLogger("runtime.metrics")
LOOPBACK = "127.0.0.1"


@dataclass
class MetricsPort:
    server: WSGIServer
    thread: threading.Thread
    port: int


def start(services: Services) -> MetricsPort | None:
    settings = services.settings
    port = settings.http.metrics_port
    if not settings.production or settings.http.metrics_token is not None or port <= 0:
        return None
    metrics.watch(services)
    try:
        server, thread = start_http_server(port, addr=LOOPBACK, registry=metrics.EXPOSITION)
    except OSError as exc:
        log.info("metrics not served on %s:%d by this worker (%s)", LOOPBACK, port, exc.strerror)
        return None
    log.info("metrics served on http://%s:%d/metrics (loopback only)", LOOPBACK, port)
    return MetricsPort(server, thread, port)


def stop(running: MetricsPort | None) -> None:
    if running is not None:
        running.server.shutdown()
        running.server.server_close()
        running.thread.join(timeout=5)
