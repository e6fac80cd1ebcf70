"""The HTTP edge alone: the whole ASGI app called directly with the peer bench's request
shape (POST /graphql, JSON, a bearer token), its database work stubbed: authentication
answers "signed out" at once and the audit write does nothing. What is left is everything a
request crosses before and after execution, and strawberry's execution of `{ __typename }`
(`--stub-execute`: not even that, a canned answer instead).

    python -m bench.edge_alone [--count 2000] [--rounds 7] [--stub-execute]

Prints CPU µs per request, the best of `--rounds` (the least disturbed on a shared
machine). The stubs patch module attributes that exist in older trees too, so the same
command compares checkouts (`cd OTHER && PYTHONPATH=. python -m bench.edge_alone`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from strawberry.types.execution import ExecutionResult

import portal.auth
from bench.edge import http_scope
from bench.http import Request
from domain.clock import FixedClock
from portal.api import schema
from portal.app import create_app, tune_gc
from runtime.config import Settings
from runtime.services import build_services

REQUEST = Request("not-read", {"query": "{ __typename }"})
QUERY = orjson.dumps(REQUEST.body)


async def signed_out(*_args: Any, **_kwargs: Any) -> portal.auth.Authentication:
    return portal.auth.Authentication()


async def canned(*_args: Any, **_kwargs: Any) -> ExecutionResult:
    return ExecutionResult(data={"__typename": "Query"}, errors=None)


async def no_audit(*_args: Any) -> None:
    return None


async def run(args: argparse.Namespace) -> None:
    portal.auth.authenticate = signed_out
    if args.stub_execute:
        type(schema).execute = canned  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'unused.db'}"
        settings = Settings(env="test", database_url=url, audit_flush_seconds=3600)
        services = build_services(settings, FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))
        services.audit.write = no_audit  # type: ignore[method-assign,assignment]
        app = create_app(services=services)
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": QUERY, "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        for _ in range(200):  # warm
            sent.clear()
            await app(http_scope(REQUEST, QUERY), receive, send)
        if sent[0]["status"] != 200 or b"Query" not in sent[1]["body"]:
            raise SystemExit(f"bench.edge_alone: {sent}")
        tune_gc()
        rounds = []
        for _ in range(args.rounds):
            cpu = time.process_time()
            for _ in range(args.count):
                await app(http_scope(REQUEST, QUERY), receive, send)
            sent.clear()
            rounds.append((time.process_time() - cpu) / args.count * 1e6)
        await services.engine.dispose()
    what = "canned answer" if args.stub_execute else "{ __typename } executed"
    print(
        f"edge alone ({what}): {min(rounds):.1f} µs CPU per request (best of {args.rounds}"
        f" rounds of {args.count}: {' '.join(f'{r:.1f}' for r in rounds)})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.edge_alone")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--stub-execute", action="store_true")
    asyncio.run(run(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
