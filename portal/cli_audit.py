"""`portal audit --refused`: the reads the access policy refused, for an operator looking
for probing (docs/audit.md). One tab-separated line per row, newest first."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta

from persistence import models as m
from persistence.audit import refused_reads
from persistence.db import create_engine, session_factory
from runtime.config import from_env

COLUMNS = (
    "at",
    "account",
    "patient",
    "object",
    "area",
    "reason",
    "operation",
    "fields",
    "address",
    "request",
)


async def _rows(
    url: str, since: datetime, account: str | None, patient: str | None, limit: int
) -> list[m.AuditEvent]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return await refused_reads(session, since, account, patient, limit)
    finally:
        await engine.dispose()


def _line(row: m.AuditEvent) -> str:
    values = (
        row.at.isoformat(),
        row.account_id,
        row.patient_id,
        row.object_id,
        row.area,
        row.reason,
        row.operation,
        row.object_types,
        row.client_address,
        row.request_id,
    )
    return "\t".join(value or "-" for value in values)


def cmd_audit(args: argparse.Namespace) -> int:
    if not args.refused:
        print("audit: say what to list: --refused", file=sys.stderr)
        return 2
    if args.hours <= 0 or args.limit <= 0:
        print("audit: --hours and --limit must be positive", file=sys.stderr)
        return 2
    url = str(args.database_url or from_env().database_url)
    since = datetime.now(UTC) - timedelta(hours=args.hours)
    rows = asyncio.run(_rows(url, since, args.account, args.patient, args.limit))
    print("\t".join(COLUMNS))
    for row in rows:
        print(_line(row))
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("audit", help="list refused reads (FORBIDDEN), newest first")
    parser.add_argument("--refused", action="store_true", help="the reads that were refused")
    parser.add_argument("--hours", type=float, default=24.0, help="how far back (default 24)")
    parser.add_argument("--account", help="only this account's attempts")
    parser.add_argument("--patient", help="only attempts at this patient's record")
    parser.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    parser.set_defaults(func=cmd_audit)
