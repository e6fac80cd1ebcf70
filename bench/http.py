"""HTTP benchmark: the BFF as operators will judge it, beside a hand-written yardstick.

    python -m bench.http [--patients 10000] [--seconds 10] [--workers 2] [--skip-sqlite]

It creates a PostgreSQL database of its own (dropped at the end) and a SQLite file, loads
the same generated demo dataset into each, starts the app as production runs it (`portal
serve`, PORTAL_ENV=production, WEB_CONCURRENCY workers; one worker on SQLite, the embedded
default) and, on PostgreSQL, the hand-written Starlette + asyncpg dashboard
(bench/handwritten.py) with the same worker count. wrk (a separate process, bounded by
`--seconds`) drives each at a fixed concurrency, rotating over many patients and their own
valid tokens (bench/load.lua):

(a) dashboard  the home dashboard (the query of tests/api/test_no_n_plus_one.py, n=10)
(b) proxy      a proxy's home: every patient context with upcoming appointments
(c) results    one page of results with components, and a trend
(d) send       sendMessage: a reply in one of the patient's threads
(e) floor      `{ __typename }` with a valid token: what any request costs before it asks
               for anything (authentication, parsing, execution, audit, metrics)

SQL statements per request are counted in-process (a SQLAlchemy cursor event for the app,
a counter in the yardstick) over a sample of the same requests. Rate limits per account are
switched off for the run (RATE_REQUESTS_PER_ACCOUNT=off): the load comes from few clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text

from persistence.db import create_engine, session_factory
from persistence.demodata import Generator
from persistence.migrate import upgrade
from persistence.models import new_id
from persistence.seed import load_dataset
from persistence.sessions import NewSession, start_session
from runtime.config import from_env
from runtime.security import TokenIssuer, hash_password
from schema.base import to_global_id
from tests.api.test_no_n_plus_one import DASHBOARD
from tests.realtime.harness import ROOT, Server, free_port

LUA = Path(__file__).with_name("load.lua")
SECRET = "bench-jwt-secret-0123456789abcdef-0123456789"  # noqa: S105 (a throwaway)
PRODUCTION_ENV = {
    "PORTAL_ENV": "production",
    "JWT_SECRET": SECRET,
    "INTEGRATION_TOKEN": "bench-integration-token-0123456789abcdef",
    "SMTP_HOST": "127.0.0.1",  # mail is only queued during the run, never sent
    "RATE_REQUESTS_PER_ACCOUNT": "off",
    "LOG_LEVEL": "WARNING",
}
PROXY_HOME = """
query ProxyHome {
  viewer {
    patients {
      relationship
      patient {
        id name { display }
        appointments(when: UPCOMING, first: 5) {
          edges { node { id startsAt provider { name } } }
        }
      }
    }
  }
}
"""
RESULTS_PAGE = """
query Results($id: ID!, $code: String!) {
  patient(id: $id) {
    results(first: 10) {
      edges { node { id name releaseStatus resultedAt
                     components { code value unit flag referenceRange { low high } } } }
    }
    resultTrend(code: $code) { at value unit flag }
  }
}
"""
SEND = """
mutation Send($input: SendMessageInput!) {
  sendMessage(input: $input) { message { id sentAt } errors { code message } }
}
"""
TREND_CODE = "2345-7"  # glucose: the most common component of the demo data


@dataclass(frozen=True)
class Request:
    token: str
    body: dict[str, Any]
    path: str = "/graphql"


@dataclass
class Row:
    backend: str
    server: str
    scenario: str
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    statements: float
    errors: int


# -- data ----------------------------------------------------------------------------------
async def create_postgres(base: str, dataset: Path) -> tuple[str, Any]:
    from bench.realtime import create_database

    return await create_database(base, 0, dataset=dataset)


async def generated_database(
    directory: Path, patients: int, *, sqlite: bool, postgres: str
) -> tuple[str, Any]:
    """`patients` generated demo patients (seed 11) in a SQLite file in `directory` or a
    PostgreSQL database of their own: its URL, and how to drop it (None for SQLite)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    Generator(patients=patients, seed=11, now=now).write(str(directory / "data"))
    if sqlite:
        return await create_sqlite(directory, directory / "data"), None
    return await create_postgres(postgres, directory / "data")


async def create_sqlite(directory: Path, dataset: Path) -> str:
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    hashed = hash_password("not-used-tokens-are-minted")
    await load_dataset(engine, str(dataset), lambda _password: hashed)
    await engine.dispose()
    return url


async def requests_for(url: str, issuer: TokenIssuer, limit: int = 500) -> dict[str, list[Request]]:
    """Requests of each scenario, each for another account (own tokens, 2 hours)."""
    now = datetime.now(UTC)
    engine = create_engine(url)
    async with engine.connect() as connection:
        own = (
            await connection.execute(
                text(
                    "SELECT id, patient_id FROM accounts WHERE patient_id IS NOT NULL "
                    "ORDER BY id LIMIT :n"
                ),
                {"n": limit},
            )
        ).all()
        proxies = (
            await connection.execute(
                text(
                    "SELECT DISTINCT proxy_account_id FROM proxy_grants "
                    "WHERE status = 'active' AND proxy_account_id IS NOT NULL "
                    "ORDER BY proxy_account_id LIMIT :n"
                ),
                {"n": limit},
            )
        ).all()
        threads = (
            await connection.execute(
                text(
                    "SELECT a.id, a.patient_id, min(t.id) FROM accounts a "
                    "JOIN message_threads t ON t.patient_id = a.patient_id "
                    "GROUP BY a.id, a.patient_id ORDER BY a.id LIMIT :n"
                ),
                {"n": limit},
            )
        ).all()
    # One session per account (the tokens carry its id, and a token of no session is refused).
    accounts = {a for a, *_ in own} | {a for (a,) in proxies} | {a for a, *_ in threads}
    sessions = {a: new_id("ses") for a in sorted(accounts)}
    for account_id, session_id in sessions.items():
        new = NewSession(account_id, session_id, "Benchmark", None, None)
        await start_session(session_factory(engine), new, now, timedelta(hours=2))
    await engine.dispose()

    def token(account_id: str) -> str:
        return issuer.issue(account_id, now, sessions[account_id])[0]

    def patient(patient_id: str) -> str:
        return to_global_id("Patient", patient_id)

    return {
        "dashboard": [
            Request(token(a), {"query": DASHBOARD, "variables": {"id": patient(p), "n": 10}})
            for a, p in own
        ],
        "proxy": [Request(token(a), {"query": PROXY_HOME}) for (a,) in proxies],
        "results": [
            Request(
                token(a),
                {"query": RESULTS_PAGE, "variables": {"id": patient(p), "code": TREND_CODE}},
            )
            for a, p in own
        ],
        "send": [
            Request(
                token(a),
                {
                    "query": SEND,
                    "variables": {
                        "input": {
                            "patientId": patient(p),
                            "threadId": to_global_id("MessageThread", t),
                            "body": "Benchmark reply: thank you, that answers my question.",
                        }
                    },
                },
            )
            for a, p, t in threads
        ],
        "floor": [Request(token(a), {"query": "{ __typename }"}) for a, _p in own],
    }


def yardstick_requests(dashboard: list[Request]) -> list[Request]:
    return [Request(r.token, r.body["variables"], path="/dashboard") for r in dashboard]


# -- statements per request, in process --------------------------------------------------
async def graphql_statements(url: str, env: dict[str, str], sample: list[Request]) -> float:
    from portal.app import create_app
    from runtime.services import build_services

    settings = replace(from_env({**os.environ, **env}), database_url=url)
    engine = create_engine(url)
    services = build_services(settings, engine=engine)
    count = 0

    def counted(*_args: Any) -> None:
        nonlocal count
        count += 1

    app = create_app(services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        await send(client, sample[0])  # warm: the schema, caches
        event.listen(engine.sync_engine, "before_cursor_execute", counted)
        for request in sample[1:]:
            await send(client, request)
        event.remove(engine.sync_engine, "before_cursor_execute", counted)
    await services.audit.flush()
    await engine.dispose()
    return count / (len(sample) - 1)


async def yardstick_statements(url: str, env: dict[str, str], sample: list[Request]) -> float:
    from bench import handwritten

    settings = replace(from_env({**os.environ, **env}), database_url=url)
    app = handwritten.create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):
        before = handwritten.queries
        for request in sample:
            await send(client, request)
        return (handwritten.queries - before) / len(sample)


async def send(client: httpx.AsyncClient, request: Request) -> dict[str, Any]:
    response = await client.post(
        request.path, json=request.body, headers={"authorization": f"Bearer {request.token}"}
    )
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    if answer.get("errors") and request.path == "/graphql":
        codes = {e.get("extensions", {}).get("code") for e in answer["errors"]}
        if codes - {"FORBIDDEN"}:  # held results answer FORBIDDEN (HELD_FOR_REVIEW) by design
            raise RuntimeError(f"benchmark request failed: {answer['errors'][:2]}")
    return answer


# -- load ------------------------------------------------------------------------------------
def wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("bench: wrk is not installed (Debian: apt-get install -y wrk)")
    return found


def write_requests(path: Path, requests: list[Request]) -> None:
    with path.open("w") as out:
        for r in requests:
            out.write(f"{r.path}\t{r.token}\t{json.dumps(r.body, separators=(',', ':'))}\n")


def drive(url: str, requests_file: Path, concurrency: int, seconds: float) -> dict[str, Any]:
    command = [
        wrk(),
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
        "--",
        str(requests_file),
    ]
    out = subprocess.run(  # noqa: S603 (our own command line)
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return figures


def row(
    backend: str, server: str, scenario: str, concurrency: int, figures: dict[str, Any], sql: float
) -> Row:
    seconds = figures["duration_us"] / 1e6
    errors = figures["non2xx"] + figures["socket_errors"]
    if scenario != "dashboard" and scenario != "results":
        errors += figures["graphql_errors"]  # (held results answer FORBIDDEN by design)
    return Row(
        backend,
        server,
        scenario,
        concurrency,
        figures["requests"] / seconds,
        figures["p50_us"] / 1000,
        figures["p99_us"] / 1000,
        sql,
        errors,
    )


def table(rows: list[Row]) -> str:
    lines = [
        f"{'backend':<10} {'server':<11} {'scenario':<10} {'conc':>4} {'req/s':>8} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'SQL/req':>8} {'errors':>6}"
    ]
    for r in rows:
        lines.append(
            f"{r.backend:<10} {r.server:<11} {r.scenario:<10} {r.concurrency:>4} "
            f"{r.rps:>8.1f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.statements:>8.1f} {r.errors:>6}"
        )
    return "\n".join(lines)


# -- the run -----------------------------------------------------------------------------------
class Yardstick:
    """bench/handwritten.py under uvicorn in a subprocess."""

    def __init__(self, url: str, env: dict[str, str], workers: int, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env, "DATABASE_URL": url}
        self.workers, self.log = workers, log
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> Yardstick:
        command = [
            sys.executable,
            *("-m", "uvicorn", "bench.handwritten:app_from_env", "--factory"),
            *("--port", str(self.port), "--workers", str(self.workers)),
            *("--loop", "uvloop", "--http", "httptools", "--no-access-log"),
            *("--log-level", "warning"),
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603, ASYNC220 (our own command)
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                try:
                    await client.post(f"{self.url}/dashboard", timeout=1.0)
                    return self
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        raise TimeoutError(f"the yardstick did not start:\n{self.log.read_text()[-2000:]}")

    async def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            await asyncio.to_thread(self.process.wait, 10)


async def run_backend(
    backend: str,
    url: str,
    args: argparse.Namespace,
    workdir: Path,
    concurrencies: list[int],
    workers: int,
) -> list[Row]:
    env = {**PRODUCTION_ENV, "WEB_CONCURRENCY": str(workers)}
    settings = from_env({**os.environ, **env})
    issuer = TokenIssuer(SECRET, settings.jwt_issuer, settings.jwt_audience, timedelta(hours=2))
    scenarios = await requests_for(url, issuer, args.accounts)
    sql = {
        name: await graphql_statements(url, env, requests[:21])
        for name, requests in scenarios.items()
        if name != "send"
    }
    sql["send"] = await graphql_statements(url, env, scenarios["send"][-21:])
    rows: list[Row] = []
    server = await Server(url, workdir, env).start()
    try:
        for name, requests in scenarios.items():
            path = workdir / f"{backend}-{name}.txt"
            write_requests(path, requests)
            for concurrency in concurrencies:
                figures = drive(server.url, path, concurrency, args.seconds)
                rows.append(row(backend, "graphql", name, concurrency, figures, sql[name]))
                print(table(rows[-1:]).splitlines()[1], flush=True)
    finally:
        await server.stop()
    if backend != "postgres":
        return rows
    direct = yardstick_requests(scenarios["dashboard"])
    statements = await yardstick_statements(url, env, direct[:20])
    yardstick = await Yardstick(url, env, workers, workdir / "yardstick.log").start()
    try:
        path = workdir / "postgres-yardstick.txt"
        write_requests(path, direct)
        for concurrency in concurrencies:
            figures = drive(yardstick.url, path, concurrency, args.seconds)
            rows.append(row(backend, "handwritten", "dashboard", concurrency, figures, statements))
            print(table(rows[-1:]).splitlines()[1], flush=True)
    finally:
        await yardstick.stop()
    return rows


def overhead(rows: list[Row], concurrency: int) -> str:
    def p50(server: str) -> float | None:
        for r in rows:
            if (r.backend, r.server, r.scenario, r.concurrency) == (
                "postgres",
                server,
                "dashboard",
                concurrency,
            ):
                return r.p50_ms
        return None

    graphql, direct = p50("graphql"), p50("handwritten")
    if not graphql or not direct:
        return f"GraphQL overhead at concurrency {concurrency}: not measured"
    return (
        f"GraphQL overhead (p50 dashboard GraphQL / handwritten) at concurrency {concurrency}: "
        f"{graphql / direct:.2f} (target <= 1.5)"
    )


async def main(args: argparse.Namespace) -> int:
    wrk()
    started = time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        workdir = Path(tmp)
        dataset = workdir / "dataset"
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
        Generator(patients=args.patients, seed=11, now=now).write(str(dataset))
        print(f"dataset: {args.patients} patients ({time.perf_counter() - started:.0f} s)")
        if not args.skip_postgres:
            url, drop = await create_postgres(args.postgres, dataset)
            try:
                rows += await run_backend("postgres", url, args, workdir, [1, 32], args.workers)
            finally:
                await drop()
        if not args.skip_sqlite:
            url = await create_sqlite(workdir, dataset)
            rows += await run_backend("sqlite", url, args, workdir, [1, 8], 1)
    print()
    print(table(rows))
    print(overhead(rows, 1))
    print(overhead(rows, 32))
    print(f"({time.perf_counter() - started:.0f} s in all)")
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per run")
    parser.add_argument("--workers", type=int, default=2, help="PostgreSQL app workers")
    parser.add_argument("--accounts", type=int, default=500, help="accounts rotated per scenario")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
