"""The database read path of one home dashboard alone, without HTTP or GraphQL: what the
loaders' statements cost in CPU (SQLAlchemy, the driver, making the rows), on a fresh
database of its own.

    python -m bench.readpath [--sqlite] [--patients 300] [--rounds 5] [--together]

Per patient with an account of its own: the principal read at authentication (with the
patients' rows), then the dashboard's four pages (upcoming appointments with provider and
department, 10 results with components, 5 threads with 3 messages each, open statements
with their lines), each one statement on one session. Prints CPU ms per dashboard for each
round (process time: the driver's threads included) and the best.

`--together` (PostgreSQL): the four pages as the request reads them now, in one statement
(persistence/together.py), rounds interleaved with the four statements one by one, so
that both are measured at the same moment of a shared machine: CPU ms of each, and the
difference (the principal read included in both).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bench.http import generated_database
from domain import access
from domain.paging import Page
from domain.scopes import RecordArea, Relationship
from persistence import together
from persistence.db import create_engine, reading_engine, session_factory
from persistence.paging import RowPages
from persistence.queries import appointments, billing, messages, people, results


def _grant(account_id: str, patient_id: str, area: RecordArea) -> access.PatientGrant:
    # What the access policy would issue the patient's own account (a benchmark only).
    return access.PatientGrant(
        account_id, patient_id, area, Relationship.SELF, proof=access._ISSUED
    )


async def _dashboard(session: AsyncSession, account_id: str, patient_id: str) -> None:
    now = datetime.now(UTC)
    await people.principal_in_session(session, account_id, None, now, with_patients=True)
    grant = _grant(account_id, patient_id, RecordArea.APPOINTMENTS)
    joined = appointments.ProvidersAndDepartments()
    await appointments.appointment_pages(session, [grant], Page(100, None, "UPCOMING"), now, joined)
    grant = _grant(account_id, patient_id, RecordArea.RESULTS)
    components = results.components()  # as the loader reads them (loaders/results.py)
    await results.result_pages(session, [grant], Page(10), with_components=components)
    grant = _grant(account_id, patient_id, RecordArea.MESSAGES)
    page = messages.ThreadPage(5, None, None, 3)
    await messages.thread_pages(session, [grant], page, lambda _row: None)
    grant = _grant(account_id, patient_id, RecordArea.BILLING)
    await billing.statement_pages(session, [grant], Page(100, None, "open"), lambda _row: None)


async def _dashboard_together(session: AsyncSession, account_id: str, patient_id: str) -> None:
    now = datetime.now(UTC)
    await people.principal_in_session(session, account_id, None, now, with_patients=True)
    joined = appointments.ProvidersAndDepartments()
    reads: list[RowPages[Any]] = [
        appointments.appointment_read(
            "postgresql",
            [_grant(account_id, patient_id, RecordArea.APPOINTMENTS)],
            Page(100, None, "UPCOMING"),
            now,
            joined,
        ),
        results.result_read(
            "postgresql",
            [_grant(account_id, patient_id, RecordArea.RESULTS)],
            Page(10),
            with_components=results.components(),
        ),
        messages.thread_read(
            "postgresql",
            [_grant(account_id, patient_id, RecordArea.MESSAGES)],
            messages.ThreadPage(5, None, None, 3),
            lambda _row: None,
        ),
        billing.statement_read(
            "postgresql",
            [_grant(account_id, patient_id, RecordArea.BILLING)],
            Page(100, None, "open"),
            lambda _row: None,
        ),
    ]
    parts = await together.rows_together(session, [(r.statement, r.values) for r in reads])
    if parts is None:
        raise SystemExit("bench.readpath: the reads could not be run together")
    for read, rows in zip(reads, parts, strict=True):
        read.pages(rows)


async def measure_together(url: str, rounds: int) -> dict[str, list[float]]:
    """CPU ms per dashboard, the four pages one by one and together, rounds interleaved."""
    engine = create_engine(url)
    sessions = session_factory(reading_engine(engine))
    async with engine.connect() as connection:
        owners = (
            await connection.execute(
                text(
                    "SELECT id, patient_id FROM accounts WHERE patient_id IS NOT NULL "
                    "ORDER BY id LIMIT 100"
                )
            )
        ).all()
    ways = {"one by one": _dashboard, "together": _dashboard_together}
    found: dict[str, list[float]] = {name: [] for name in ways}
    async with sessions() as session:
        for way in ways.values():
            for account_id, patient_id in owners[:10]:  # warm
                await way(session, account_id, patient_id)
        for _ in range(rounds):
            for name, way in ways.items():
                started = time.process_time()
                for account_id, patient_id in owners:
                    await way(session, account_id, patient_id)
                found[name].append((time.process_time() - started) / len(owners) * 1000)
    await engine.dispose()
    return found


async def measure(url: str, rounds: int) -> list[float]:
    engine = create_engine(url)
    sessions = session_factory(reading_engine(engine))
    async with engine.connect() as connection:
        owners = (
            await connection.execute(
                text(
                    "SELECT id, patient_id FROM accounts WHERE patient_id IS NOT NULL "
                    "ORDER BY id LIMIT 100"
                )
            )
        ).all()
    per_dashboard = []
    async with sessions() as session:
        for account_id, patient_id in owners[:10]:  # warm: statements compiled, prepared
            await _dashboard(session, account_id, patient_id)
        for _ in range(rounds):
            started = time.process_time()
            for account_id, patient_id in owners:
                await _dashboard(session, account_id, patient_id)
            per_dashboard.append((time.process_time() - started) / len(owners) * 1000)
    await engine.dispose()
    return per_dashboard


async def run(args: argparse.Namespace) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="portal-readpath-") as tmp:
        url, drop = await generated_database(
            Path(tmp), args.patients, sqlite=args.sqlite, postgres=args.postgres
        )
        try:
            if args.together:
                return await measure_together(url, args.rounds)
            return {"": await measure(url, args.rounds)}
        finally:
            if drop is not None:
                await drop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.readpath")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--together", action="store_true")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args(argv)
    if args.together and args.sqlite:
        parser.error("--together is PostgreSQL's")
    ways = asyncio.run(run(args))
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    backend = "SQLite" if args.sqlite else "PostgreSQL"
    for name, figures in ways.items():
        rounds = ", ".join(f"{f:.2f}" for f in figures)
        label = f" ({name})" if name else ""
        print(
            f"{backend}{label}: CPU ms per dashboard read path: {rounds}; best {min(figures):.2f}"
        )
    if len(ways) == 2:
        separate, joined = ways.values()
        pairs = [t - s for s, t in zip(separate, joined, strict=True)]
        print("together - one by one, per round: " + ", ".join(f"{d:+.3f}" for d in pairs))
    print(f"(load average {load})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
