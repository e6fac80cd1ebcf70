"""Profile one benchmark scenario in process with pyinstrument (the HTTP layer included,
through httpx's ASGI transport), on a fresh database of its own.

    python -m bench.profile [dashboard|proxy|results|send] [--sqlite] [--patients 300]
                            [--concurrency 1,32 [--load 300]]

Prints the time per request without the profiler, then pyinstrument's call tree.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from pyinstrument import Profiler

from bench.http import (
    PRODUCTION_ENV,
    SECRET,
    Request,
    generated_database,
    requests_for,
    send,
)
from runtime.config import from_env
from runtime.security import TokenIssuer


@asynccontextmanager
async def scenario_app(args: argparse.Namespace) -> AsyncIterator[tuple[Any, Any, list[Request]]]:
    """A fresh database of its own (`--sqlite` or `--postgres`, `--patients`), the app as
    production configures it, and the requests of `args.scenario`: (services, app, requests).
    The audit is flushed, the engine disposed and the database dropped afterwards."""
    from portal.app import create_app
    from runtime.services import build_services

    with tempfile.TemporaryDirectory(prefix="portal-profile-") as tmp:
        url, drop = await generated_database(
            Path(tmp), args.patients, sqlite=args.sqlite, postgres=args.postgres
        )
        try:
            settings = replace(from_env({**os.environ, **PRODUCTION_ENV}), database_url=url)
            issuer = TokenIssuer(
                SECRET, settings.jwt_issuer, settings.jwt_audience, timedelta(hours=1)
            )
            scenarios = await requests_for(url, issuer, 200)
            if args.scenario.startswith("peer-"):
                from bench.served import peer_queries, peer_scenarios

                scenarios.update(peer_scenarios(scenarios, Path(peer_queries())))
            requests: list[Request] = scenarios[args.scenario]
            services = build_services(settings)
            try:
                yield services, create_app(services=services), requests
            finally:
                await services.audit.flush()
                await services.engine.dispose()
        finally:
            if drop is not None:
                await drop()


async def profile(args: argparse.Namespace) -> None:
    from portal.app import tune_gc

    async with scenario_app(args) as (_services, app, requests):
        transport = httpx.ASGITransport(app=app)
        if args.tune_gc:  # what the app's lifespan does (httpx's transport runs none)
            tune_gc()
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            if not args.compressed:
                # As wrk sends them in the peer bench: no Accept, no Accept-Encoding (httpx's
                # defaults would have every large answer compressed with brotli).
                del client.headers["accept"], client.headers["accept-encoding"]
            for request in requests[:5]:  # warm
                await send(client, request)
            started = time.perf_counter()
            timed = requests[5:55]
            for request in timed:
                await send(client, request)
            per_request = (time.perf_counter() - started) / len(timed) * 1000
            for concurrency in args.concurrency:
                await _load(client, requests, concurrency, args.load)
            profiler = Profiler(async_mode="enabled")
            profiler.start()
            for request in requests[55:105]:
                await send(client, request)
            profiler.stop()
    print(f"{args.scenario}: {per_request:.1f} ms per request in process, without the profiler")
    if args.flat:  # where the time is spent itself, function by function
        print("\n".join(profiler.output_text(flat=True).splitlines()[: args.flat]))
    else:
        print(profiler.output_text(unicode=False, color=False))


async def _load(
    client: httpx.AsyncClient, requests: list[Request], concurrency: int, count: int
) -> None:
    """`count` requests over `concurrency` concurrent clients: CPU time of this process per
    request (client included, the same at every concurrency), and what the GC took."""
    collections = [0, 0, 0]
    gc_seconds = 0.0
    started_gc = 0.0

    def on_gc(phase: str, info: dict[str, int]) -> None:
        nonlocal gc_seconds, started_gc
        if phase == "start":
            started_gc = time.process_time()
        else:
            gc_seconds += time.process_time() - started_gc
            collections[info["generation"]] += 1

    queue = [requests[i % len(requests)] for i in range(count)]

    async def worker() -> None:
        while queue:
            await send(client, queue.pop())

    gc.callbacks.append(on_gc)
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        gc.callbacks.remove(on_gc)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"c={concurrency}: {count / wall:.0f} req/s, {cpu / count * 1000:.2f} ms CPU per request"
        f" (client included); GC {collections} collections (gen 0/1/2),"
        f" {gc_seconds / count * 1000:.2f} ms per request"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument(
        "scenario",
        nargs="?",
        default="dashboard",
        choices=["dashboard", "proxy", "results", "send", "floor"],
    )
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--flat", type=int, default=0, help="the N functions of most own time")
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument(
        "--concurrency",
        type=lambda text: [int(c) for c in text.split(",")],
        default=[],
        help="also load at these concurrencies (e.g. 1,32): CPU per request and GC",
    )
    parser.add_argument("--tune-gc", action="store_true", help="as the served app does")
    parser.add_argument(
        "--compressed",
        action="store_true",
        help="send httpx's Accept-Encoding (gzip, deflate, br); by default none, as wrk",
    )
    parser.add_argument("--load", type=int, default=300, help="requests per concurrency")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    asyncio.run(profile(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
