"""Profile one benchmark scenario in process with pyinstrument (the HTTP layer included,
through httpx's ASGI transport), on a fresh database of its own.

    python -m bench.profile [dashboard|proxy|results|send] [--sqlite] [--patients 300]

Prints the time per request without the profiler, then pyinstrument's call tree.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
from pyinstrument import Profiler

from bench.http import (
    PRODUCTION_ENV,
    SECRET,
    Request,
    create_postgres,
    create_sqlite,
    requests_for,
    send,
)
from persistence.demodata import Generator
from portal.config import from_env
from portal.security import TokenIssuer


async def profile(args: argparse.Namespace) -> None:
    from portal.app import create_app
    from portal.services import build_services

    with tempfile.TemporaryDirectory(prefix="portal-profile-") as tmp:
        directory = Path(tmp)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
        Generator(patients=args.patients, seed=11, now=now).write(str(directory / "data"))
        drop = None
        if args.sqlite:
            url = await create_sqlite(directory, directory / "data")
        else:
            url, drop = await create_postgres(args.postgres, directory / "data")
        try:
            settings = replace(from_env({**os.environ, **PRODUCTION_ENV}), database_url=url)
            issuer = TokenIssuer(
                SECRET, settings.jwt_issuer, settings.jwt_audience, timedelta(hours=1)
            )
            requests: list[Request] = (await requests_for(url, issuer, 200))[args.scenario]
            services = build_services(settings)
            transport = httpx.ASGITransport(app=create_app(services=services))
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for request in requests[:5]:  # warm
                    await send(client, request)
                started = time.perf_counter()
                timed = requests[5:55]
                for request in timed:
                    await send(client, request)
                per_request = (time.perf_counter() - started) / len(timed) * 1000
                profiler = Profiler(async_mode="enabled")
                profiler.start()
                for request in requests[55:105]:
                    await send(client, request)
                profiler.stop()
            await services.audit.flush()
            await services.engine.dispose()
        finally:
            if drop is not None:
                await drop()
    print(f"{args.scenario}: {per_request:.1f} ms per request in process, without the profiler")
    if args.flat:  # where the time is spent itself, function by function
        print("\n".join(profiler.output_text(flat=True).splitlines()[: args.flat]))
    else:
        print(profiler.output_text(unicode=False, color=False))


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
        "--postgres",
        default=os.environ.get(
            "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    asyncio.run(profile(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
