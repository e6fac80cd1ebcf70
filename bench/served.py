"""What a request costs served: the server process's own CPU per request under wrk.

    python -m bench.served [floor|dashboard|proxy|peer-dashboard|peer-proxy ...]
        [--concurrency 1,32] [--seconds 10] [--rounds 2] [--in-process] [--idle 10]
        [--patients 2000] [--database-url URL] [--tree DIR ...]

One PostgreSQL database of its own (dropped at the end; `--database-url` reuses one seeded
before), tokens minted as `bench.http` does; `portal serve` started as the peer bench starts
it (PORTAL_ENV=production, one process, uvloop and httptools, its background jobs on, rate
limits off); wrk (`-t1`, bounded by `--seconds`) over the scenario's requests
(`bench/load.lua`). `peer-dashboard` and `peer-proxy` send the peer bench's own BFF queries
(`../shared/peer-bench/queries/bff`, or `--peer-queries DIR`) with the same accounts.

Printed per run: the server process's utime + stime (`/proc/<pid>/stat`) divided by the
requests wrk completed, wrk's p50 and p99 latency, and its voluntary context switches per
request (how often it went to sleep waiting for a request or for PostgreSQL). `--in-process`
also runs the same requests through the ASGI app called directly in this process, its
lifespan running (what `bench.edge` measures): the difference is what serving adds.
`--idle N` reads the server's CPU over N seconds without requests (its jobs and timers).
`--tree DIR` (repeatable) serves another checkout (e.g. a `git archive` of main) with this
interpreter; trees are run alternately, round by round, so that each sees the same load on a
shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.edge import LOOPS, production_loop, run_on
from bench.http import (
    PRODUCTION_ENV,
    SECRET,
    Request,
    create_postgres,
    drive,
    requests_for,
    write_requests,
)
from persistence.demodata import Generator
from runtime.config import from_env
from runtime.security import TokenIssuer
from tests.realtime.harness import ROOT, free_port

# As the peer bench's targets.toml runs the BFF (beside PRODUCTION_ENV's secrets).
SERVED_ENV = {
    **PRODUCTION_ENV,
    "WEB_CONCURRENCY": "1",
    "JWT_ACCESS_TTL_SECONDS": "86400",
    "RATE_SIGN_IN_PER_USERNAME": "off",
    "RATE_SIGN_IN_PER_ADDRESS": "off",
    "SMTP_PORT": "8999",
    "APPOINTMENT_REMINDER_INTERVAL_SECONDS": "0",
}
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def sleeps(pid: int) -> int:
    """Voluntary context switches of a process's threads: how often it waited (for a
    request, for PostgreSQL) with nothing else to run, each a wake-up with colder caches."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                total += int(line.split()[1])
    return total


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


class Served:
    """`portal serve` of one tree, in a subprocess of its own."""

    def __init__(self, tree: Path, url: str, workdir: Path) -> None:
        self.tree = tree
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            **SERVED_ENV,
            "DATABASE_URL": url,
            "MAIL_DIR": str(workdir / "mail"),
            "ATTACHMENTS_DIR": str(workdir / "files"),
            "PYTHONPATH": str(tree),
        }
        self.log = workdir / f"served-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> Served:
        command = [sys.executable, "-m", "portal.cli", "serve", "--port", str(self.port)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603, ASYNC220 (our own command)
                command, cwd=self.tree, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited:\n{self.log.read_text()[-2000:]}")
                try:
                    if (await client.get(f"{self.url}/healthz", timeout=1.0)).status_code == 200:
                        return self
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        raise TimeoutError(f"the server did not start:\n{self.log.read_text()[-2000:]}")

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("not started")
        return self.process.pid

    async def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            await asyncio.to_thread(self.process.wait, 20)


def measure(server: Served, path: Path, concurrency: int, seconds: float) -> dict[str, Any]:
    before, load, slept = cpu_seconds(server.pid), load_average(), sleeps(server.pid)
    figures = drive(server.url, path, concurrency, seconds)
    cpu = cpu_seconds(server.pid) - before
    slept = sleeps(server.pid) - slept
    bad = figures["non2xx"] + figures["socket_errors"] + figures["graphql_errors"]
    if bad:
        raise RuntimeError(f"{bad} bad responses: see {server.log}")
    return {
        "cpu_ms": cpu / figures["requests"] * 1000,
        "rps": figures["requests"] / (figures["duration_us"] / 1e6),
        "sleeps": slept / figures["requests"],
        "p50_ms": figures["p50_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "load": f"{load}-{load_average()}",
    }


def peer_queries() -> str:
    """The peer bench's `queries/bff` directory beside the checkout ("" when there is none)."""
    return next(
        (str(d / "shared/peer-bench/queries/bff") for d in ROOT.parents if (d / "shared").is_dir()),
        "",
    )


def peer_scenarios(scenarios: dict[str, list[Request]], queries: Path) -> dict[str, list[Request]]:
    """The peer bench's BFF queries (its `queries/bff/*.graphql`) over the same accounts."""
    if not queries.is_dir():
        return {}
    dashboard = (queries / "dashboard.graphql").read_text()
    proxy = (queries / "proxy_home.graphql").read_text()
    return {
        "peer-dashboard": [
            Request(r.token, {"query": dashboard, "variables": {"id": r.body["variables"]["id"]}})
            for r in scenarios["dashboard"]
        ],
        "peer-proxy": [Request(r.token, {"query": proxy}) for r in scenarios["proxy"]],
    }


async def in_process(
    url: str, scenarios: dict[str, list[Request]], args: argparse.Namespace
) -> None:
    """The same requests through the ASGI app called directly in this process (as
    `bench.edge` does), its lifespan (jobs, audit writer) running: CPU per request."""
    from dataclasses import replace

    from bench.edge import call
    from portal.app import create_app
    from runtime.services import build_services

    settings = replace(from_env({**os.environ, **SERVED_ENV}), database_url=url)
    app = create_app(services=build_services(settings))
    async with app.router.lifespan_context(app):
        for name in args.scenario:
            requests = scenarios[name]
            for request in requests[:20]:
                await call(app, request)
            queue = [requests[i % len(requests)] for i in range(args.count)]
            rounds = []
            for _ in range(3):
                cpu = time.process_time()
                for request in queue:
                    await call(app, request)
                rounds.append((time.process_time() - cpu) / len(queue) * 1000)
            print(
                f"in process {'':<14} {name:<14}       {min(rounds):6.3f} ms CPU/request"
                f" ({args.loop} loop; best of {' '.join(f'{r:.3f}' for r in rounds)};"
                f" load {load_average()})",
                flush=True,
            )


async def served(
    tree: Path, url: str, workdir: Path, files: dict[str, Path], args: argparse.Namespace
) -> None:
    server = await Served(tree, url, workdir).start()
    try:
        if args.idle:
            await asyncio.sleep(2)
            before = cpu_seconds(server.pid)
            await asyncio.sleep(args.idle)
            idle = (cpu_seconds(server.pid) - before) / args.idle * 1000
            print(f"served     {tree.name:<14} idle: {idle:.1f} ms CPU per second", flush=True)
        for name, path in files.items():
            drive(server.url, path, 8, args.warmup)  # warm
            for concurrency in args.concurrency:
                m = measure(server, path, concurrency, args.seconds)
                print(
                    f"served     {tree.name:<14} {name:<14} c={concurrency:<3}"
                    f" {m['cpu_ms']:6.3f} ms CPU/request {m['rps']:7.1f} req/s"
                    f" {m['sleeps']:5.2f} sleeps/request"
                    f" p50/p99 {m['p50_ms']:.1f}/{m['p99_ms']:.1f} ms (load {m['load']})",
                    flush=True,
                )
    finally:
        await server.stop()


async def run(args: argparse.Namespace, trees: list[Path]) -> None:
    with tempfile.TemporaryDirectory(prefix="portal-served-") as tmp:
        workdir = Path(tmp)
        drop = None
        if args.database_url:
            url = args.database_url
        else:
            dataset = workdir / "dataset"
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
            Generator(patients=args.patients, seed=11, now=now).write(str(dataset))
            url, drop = await create_postgres(args.postgres, dataset)
        try:
            settings = from_env({**os.environ, **SERVED_ENV})
            issuer = TokenIssuer(
                SECRET, settings.jwt_issuer, settings.jwt_audience, timedelta(hours=2)
            )
            scenarios = await requests_for(url, issuer, args.accounts)
            scenarios.update(peer_scenarios(scenarios, Path(args.peer_queries)))
            files = {}
            for name in args.scenario:
                files[name] = workdir / f"{name}.txt"
                write_requests(files[name], scenarios[name])
            for round_ in range(args.rounds):
                print(f"-- round {round_ + 1} of {args.rounds}", flush=True)
                for tree in trees:
                    await served(tree, url, workdir, files, args)
                if args.in_process:
                    await in_process(url, scenarios, args)
        finally:
            if drop is not None:
                await drop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.served", description=__doc__)
    parser.add_argument(
        "scenario",
        nargs="*",
        default=["proxy"],
        choices=["floor", "dashboard", "proxy", "peer-dashboard", "peer-proxy"],
    )
    parser.add_argument(
        "--peer-queries",
        default=peer_queries(),
        help="the peer bench's queries/bff directory",
    )
    parser.add_argument("--in-process", action="store_true", help="also bench.edge's figure")
    parser.add_argument(
        "--loop",
        choices=LOOPS,
        default=production_loop(),
        help="this process's event loop, the --in-process figure's (default: production's)",
    )
    parser.add_argument("--count", type=int, default=300, help="in-process requests a round")
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--idle", type=float, default=0.0)
    parser.add_argument(
        "--concurrency", type=lambda s: [int(c) for c in s.split(",")], default=[1, 32]
    )
    parser.add_argument(
        "--database-url", help="a database seeded before (by bench.http's data), kept as it is"
    )
    parser.add_argument("--tree", action="append", default=[], help="a checkout to serve")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args(argv)
    run_on(args.loop, run(args, [Path(t).resolve() for t in args.tree] or [ROOT]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
