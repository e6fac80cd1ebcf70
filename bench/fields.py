"""Field micro-benchmark: what GraphQL execution costs per field, case by case, in process.

    python -m bench.fields [--patients 60] [--requests 200] [--repeat 5] [--only CASE]
                           [--profile N [--sort tottime|cumulative]]

Each case prints microseconds per field (CPU time of executing a parsed and validated
document, divided by the fields the answer holds, the best of `--repeat` runs):

plain       4 plain attributes of 200 objects
enum        4 enum attributes of 200 objects
connection  a 200-edge connection: `edges { cursor node { a } }` and `nodes { a }`
access      4 fields of 200 patient-scoped objects, each with `RequiresScope` (the access
            decision and its audit, with a real `Context`; no database is touched)
dashboard   the home dashboard (tests/api/test_no_n_plus_one.py, n=10) through the real
            schema with every loader already warm: execution alone, no database read (the
            operation's audit entries are still written as it ends, as every request's); and
            `{ __typename }` through the same path: what an operation costs before its fields

and then the whole dashboard in process against a seeded SQLite database (a fresh
`Context` per request, authenticated as the HTTP edge does, the answer encoded to JSON):
CPU ms per request (`time.process_time`, every thread of the process) and wall ms, over
`--requests` requests rotating over the patients. The micro cases run on a small schema of
their own built with the same field machinery (`Connection`, `RequiresScope`, the enums and
the schema's execution context class) as the real one.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from inspect import isawaitable
from pathlib import Path
from typing import Any

import strawberry
from graphql import DocumentNode, execute, parse
from sqlalchemy import event

from bench.http import PRODUCTION_ENV, create_sqlite
from domain.access import PatientGrant, Principal
from domain.scopes import RecordArea
from persistence.demodata import Generator
from persistence.paging import PageOf
from portal.api import schema as portal_schema
from portal.http import encode_json
from runtime.config import from_env
from runtime.context import Context
from schema.base import Connection, Info, RequiresScope
from schema.enums import AppointmentStatus, ResultKind, ResultStatus
from schema.execution import lean_resolvers
from tests.api.test_no_n_plus_one import DASHBOARD

ITEMS = 200
Run = Callable[[], Awaitable[Any]]


# -- the micro schema ------------------------------------------------------------------
@strawberry.type
class Plain:
    a: str
    b: int
    c: str | None
    d: bool


@strawberry.type
class Enums:
    a: AppointmentStatus
    b: ResultKind
    c: ResultStatus
    d: AppointmentStatus | None


@strawberry.type
class Scoped:
    patient_id: strawberry.Private[str]

    @strawberry.field(extensions=[RequiresScope(RecordArea.APPOINTMENTS, "Appointment")])
    def a(self, grant: PatientGrant) -> str | None:
        return grant.patient_id

    @strawberry.field(extensions=[RequiresScope(RecordArea.RESULTS, "Result")])
    def b(self, grant: PatientGrant) -> str | None:
        return grant.patient_id

    @strawberry.field(extensions=[RequiresScope(RecordArea.MESSAGES, "MessageThread")])
    def c(self, grant: PatientGrant) -> str | None:
        return grant.patient_id

    @strawberry.field(extensions=[RequiresScope(RecordArea.BILLING, "Statement")])
    def d(self, grant: PatientGrant) -> str | None:
        return grant.patient_id


PLAINS = [Plain(a=f"a{i}", b=i, c=None if i % 2 else "c", d=bool(i % 3)) for i in range(ITEMS)]
ENUMS = [
    Enums(
        a=AppointmentStatus.SCHEDULED,
        b=ResultKind.LAB,
        c=ResultStatus.FINAL,
        d=None if i % 2 else AppointmentStatus.CANCELLED,
    )
    for i in range(ITEMS)
]
PAGE = PageOf(rows=PLAINS, cursors=[f"cursor{i}" for i in range(ITEMS)], has_next=True)


@strawberry.type
class MicroQuery:
    @strawberry.field
    def plain(self) -> list[Plain]:
        return PLAINS

    @strawberry.field
    def enums(self) -> list[Enums]:
        return ENUMS

    @strawberry.field
    def connection(self) -> Connection[Plain]:
        return Connection.of(PAGE, lambda row: row)

    @strawberry.field
    def scoped(self, info: Info) -> list[Scoped]:
        patient_id = info.context.require_principal().patient_id or ""
        return [Scoped(patient_id=patient_id) for _ in range(ITEMS)]


MICRO = strawberry.Schema(
    query=MicroQuery,
    execution_context_class=portal_schema.execution_context_class,
)
lean_resolvers(MICRO)  # as the real schema is
MICRO_CASES = {
    "plain": "{ plain { a b c d } }",
    "enum": "{ enums { a b c d } }",
    "connection": "{ connection { edges { cursor node { a } } nodes { a } } }",
    "access": "{ scoped { a b c d } }",
}


def fields_in(value: Any) -> int:
    """The fields an answer holds: every key of every object, lists walked through."""
    if isinstance(value, dict):
        return sum(1 + fields_in(v) for v in value.values())
    if isinstance(value, list):
        return sum(fields_in(v) for v in value)
    return 0


async def best_of(run: Run, repeat: int, inner: int) -> float:
    """CPU seconds per call of `run`, the best of `repeat` rounds of `inner` calls (CPU
    time, not wall time: the machine is shared, and other processes' load is not ours)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for _ in range(inner):
            await run()
        best = min(best, (time.process_time() - started) / inner)
    return best


def checked(result: Any) -> dict[str, Any]:
    if result.errors:
        raise RuntimeError(f"benchmark query failed: {result.errors[:2]}")
    data: dict[str, Any] = result.data
    return data


# -- the database ---------------------------------------------------------------------
async def dashboard_cases(args: argparse.Namespace, cases: list[str]) -> list[str]:
    from persistence.db import create_engine
    from portal.auth import authenticate
    from runtime.security import TokenIssuer
    from runtime.services import build_services

    lines = []
    with tempfile.TemporaryDirectory(prefix="portal-fields-") as tmp:
        directory = Path(tmp)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
        Generator(patients=args.patients, seed=11, now=now).write(str(directory / "data"))
        url = await create_sqlite(directory, directory / "data")
        settings = replace(from_env({**os.environ, **PRODUCTION_ENV}), database_url=url)
        engine = create_engine(url)
        services = build_services(settings, engine=engine)
        issuer = TokenIssuer(
            settings.jwt_secret,
            settings.jwt_issuer,
            settings.jwt_audience,
            settings.access_token_ttl,
        )
        from bench.http import requests_for

        requests = (await requests_for(url, issuer, args.patients))["dashboard"]
        statements = reads = 0

        def counted(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            nonlocal statements, reads
            statements += 1
            reads += statement.lstrip()[:6].upper() == "SELECT"

        event.listen(engine.sync_engine, "before_cursor_execute", counted)

        def context_for(principal: Principal | None, name: str) -> Context:
            return Context(
                services=services,
                request=None,
                request_id="bench",
                now=services.clock.now(),
                principal=principal,
                actor_name=name,
            )

        async def one(index: int) -> bytes:
            request = requests[index % len(requests)]
            auth = await authenticate(
                services, f"Bearer {request.token}", services.clock.now(), None
            )
            context = context_for(auth.principal, auth.actor_name)
            result = await portal_schema.execute(
                DASHBOARD,
                variable_values=request.body["variables"],
                context_value=context,
                operation_name="Dashboard",
            )
            body: dict[str, Any] = {"data": result.data}
            if result.errors:
                body["errors"] = [e.formatted for e in result.errors]
            return encode_json(body)

        if "dashboard" in cases:
            # Execution alone: the same context twice, its loaders warm the second time.
            request = requests[0]
            auth = await authenticate(
                services, f"Bearer {request.token}", services.clock.now(), None
            )
            context = context_for(auth.principal, auth.actor_name)

            async def warm() -> Any:
                return await portal_schema.execute(
                    DASHBOARD,
                    variable_values=request.body["variables"],
                    context_value=context,
                    operation_name="Dashboard",
                )

            answer = await warm()
            fields = fields_in(answer.data)
            before = reads
            seconds = await best_of(warm, args.repeat, 20)
            # (The operation's audit entries are written as it ends: those are not reads.)
            if reads != before:
                raise RuntimeError("the warm dashboard read from the database")
            lines.append(row("dashboard", seconds, fields))

            async def floor() -> Any:  # what any operation costs before its fields
                fresh = context_for(auth.principal, auth.actor_name)  # nothing read: no audit
                return await portal_schema.execute(
                    "query Floor { __typename }", context_value=fresh, operation_name="Floor"
                )

            per_operation = await best_of(floor, args.repeat, 20)
            lines.append(f"{'operation floor':<18} {per_operation * 1000:8.3f} ms/answer")
            if args.profile:
                await profiled(warm, 20, args)

        if "sqlite" in cases:
            for index in range(10):  # warm: the document cache, the statement caches
                await one(index)
            before = statements
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            for index in range(args.requests):
                await one(index)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            per_request = (statements - before) / args.requests
            if args.profile:
                await profiled(lambda: one(0), args.requests, args)
            lines.append(
                f"{'sqlite dashboard':<18} {cpu / args.requests * 1000:8.2f} CPU ms/request"
                f" {wall / args.requests * 1000:8.2f} wall ms/request"
                f"  ({args.requests} requests, {per_request:.1f} SQL statements each)"
            )
        services.audit._queue.clear()  # the audit writer is not what this measures
        await engine.dispose()
    return lines


async def profiled(run: Run, times: int, args: argparse.Namespace) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(times):
        await run()
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stdout).sort_stats(args.sort).print_stats(args.profile)


def row(name: str, seconds: float, fields: int) -> str:
    return (
        f"{name:<18} {seconds / fields * 1e6:8.2f} µs/field {seconds * 1000:8.3f} ms/answer"
        f"  ({fields} fields)"
    )


async def main_async(args: argparse.Namespace) -> None:
    cases = [args.only] if args.only else [*MICRO_CASES, "dashboard", "sqlite"]
    from persistence.db import create_engine
    from runtime.services import build_services

    settings = replace(
        from_env({**os.environ, **PRODUCTION_ENV}), database_url="sqlite+aiosqlite://"
    )
    services = build_services(settings, engine=create_engine(settings.database_url))
    print(f"strawberry-graphql {strawberry_version()}, graphql-core {graphql_version()}")
    principal = Principal(account_id="bench", now=datetime.now(UTC), patient_id="p1")
    for name, query in MICRO_CASES.items():
        if name not in cases:
            continue

        document = parse(query)

        async def run(document: DocumentNode = document) -> Any:
            context = Context(services, None, "bench", principal.now, principal)
            result = execute(
                MICRO._schema,
                document,
                context_value=context,
                executor_class=MICRO.execution_context_class,
            )
            return await result if isawaitable(result) else result

        fields = fields_in(checked(await run()))
        print(row(name, await best_of(run, args.repeat, 20), fields), flush=True)
    await services.engine.dispose()
    if {"dashboard", "sqlite"} & set(cases):
        for line in await dashboard_cases(args, cases):
            print(line)


def strawberry_version() -> str:
    from importlib.metadata import version

    return version("strawberry-graphql")


def graphql_version() -> str:
    from importlib.metadata import version

    return version("graphql-core")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fields")
    parser.add_argument("--patients", type=int, default=60)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=[*MICRO_CASES, "dashboard", "sqlite"])
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        help="dashboard, sqlite: the N top functions under cProfile",
    )
    parser.add_argument("--sort", default="tottime", help="cProfile's sort key")
    asyncio.run(main_async(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
