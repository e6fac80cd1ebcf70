"""What the server alone spends per request, without an HTTP client in the same process:
the ASGI app called directly with the requests wrk sends in the peer bench (POST, JSON
body, `Content-Type: application/json`, a bearer token; no Accept, no Accept-Encoding).

    python -m bench.edge [floor|dashboard|proxy|peer-dashboard|peer-proxy] [--count 400]
                         [--rounds 5] [--sqlite] [--cprofile 30] [--dump FILE]
                         [--loop uvloop|asyncio] [--together-ab]

`peer-dashboard` and `peer-proxy` send the peer bench's own BFF queries (as `bench.served`).
Prints CPU ms per request (process_time over `--count` sequential requests, after a warm-up;
the app's GC tuning applied; the best of `--rounds`, the least disturbed on a shared
machine) and, with `--cprofile N`, the N functions of most own time. `--together-ab`:
the rounds alternate the reads of a request run together in one statement on PostgreSQL
and one by one, both figures printed (persistence/together.py).

`--loop`: the event loop it runs on; by default the one `portal serve` runs uvicorn on
(uvloop when installed, portal/cli.py), whose own cost per request is not asyncio's.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import io
import os
import pstats
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

import orjson

from bench.http import Request
from bench.profile import scenario_app

LOOPS = ("uvloop", "asyncio")


def production_loop() -> str:
    """The event loop `portal serve` runs on (portal/cli.py): uvloop when installed."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


def run_on(loop: str, main: Coroutine[Any, Any, None]) -> None:
    """`asyncio.run(main)` on the event loop named `loop` (one of LOOPS)."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)


def http_scope(request: Request, body: bytes) -> dict[str, Any]:
    """The ASGI scope of `request` as wrk sends it (also `bench.edge_alone`'s)."""
    headers = [
        (b"host", b"127.0.0.1:8900"),
        (b"authorization", f"Bearer {request.token}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": request.path,
        "raw_path": request.path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8900),
        "state": {},
    }


async def call(app: Any, request: Request) -> tuple[int, bytes]:
    body = orjson.dumps(request.body)
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(http_scope(request, body), receive, send)
    return status, b"".join(chunks)


async def run(args: argparse.Namespace) -> None:
    from portal.app import tune_gc

    async with scenario_app(args) as (_services, app, requests):
        tune_gc()
        for request in requests[:20]:  # warm
            status, body = await call(app, request)
            if status != 200 or (args.scenario == "floor" and b'"errors"' in body):
                raise SystemExit(f"bench.edge: {status} {body[:300]!r}")
        queue = [requests[i % len(requests)] for i in range(args.count)]
        if args.together_ab:
            await _together_ab(app, queue, args.rounds)
            return
        rounds = []
        for _ in range(args.rounds):
            cpu = time.process_time()
            for request in queue:
                await call(app, request)
            rounds.append((time.process_time() - cpu) / args.count * 1000)
        profiler = None
        if args.cprofile:
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for request in queue:
                await call(app, request)
            profiler.disable()
    print(
        f"{args.scenario}: {min(rounds):.3f} ms CPU per request (server only, {args.loop}"
        f" loop; best of {len(rounds)} rounds of {args.count}:"
        f" {' '.join(f'{r:.3f}' for r in rounds)})"
    )
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(args.cprofile)
        if args.dump:
            stats.dump_stats(args.dump)
        print(out.getvalue())


async def _together_ab(app: Any, queue: list[Request], rounds: int) -> None:
    """`--together-ab`: rounds alternating PostgreSQL's reads together (persistence/together.py)
    and one by one (turned off), in this one process: each pair at the same moment of a
    shared machine."""
    from persistence import together

    found: dict[bool, list[float]] = {True: [], False: []}
    try:
        for _ in range(rounds):
            for on in (True, False):
                together.ENABLED = on
                cpu = time.process_time()
                for request in queue:
                    await call(app, request)
                found[on].append((time.process_time() - cpu) / len(queue) * 1000)
    finally:
        together.ENABLED = True
    for on, figures in found.items():
        middle = sorted(figures)[len(figures) // 2]
        print(
            f"{'together' if on else 'one by one'}: best {min(figures):.3f} median {middle:.3f}"
            f" ms CPU per request ({' '.join(f'{f:.3f}' for f in figures)})"
        )
    pairs = zip(found[True], found[False], strict=True)
    print("together - one by one, per round: " + " ".join(f"{a - b:+.3f}" for a, b in pairs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.edge")
    parser.add_argument(
        "scenario",
        nargs="?",
        default="floor",
        choices=["floor", "dashboard", "proxy", "peer-dashboard", "peer-proxy"],
    )
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=1, help="report the best round")
    parser.add_argument("--cprofile", type=int, default=0)
    parser.add_argument("--dump", default=None, help="write the cProfile stats to this file")
    parser.add_argument(
        "--loop",
        choices=LOOPS,
        default=production_loop(),
        help="the event loop (default: production's, uvloop when installed)",
    )
    parser.add_argument(
        "--together-ab",
        action="store_true",
        help="alternate rounds with the reads together and one by one (PostgreSQL)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args(argv)
    run_on(args.loop, run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
