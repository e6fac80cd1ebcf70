"""Load a dataset directory in the demo-data format (JSON Lines per kind) with bulk inserts.

The format is the one `persistence.demodata` writes (see its README). Everything loads in
one transaction: on PostgreSQL with COPY (binary), elsewhere with Core executemany INSERTs in
chunks, so 10,000 patients load in well under a minute.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from domain.errors import BrokenInvariant
from persistence import models as m

CHUNK = 2000
SUPPORTED_FORMATS = {1, 2}  # 2: full proxy grants name clinical_notes; clinical_notes.jsonl
NOTIFY_WINDOW = timedelta(days=30)


class DatasetError(ValueError):
    pass


@dataclass
class SeedReport:
    counts: dict[str, int]
    seconds: float
    now: str


def _read(directory: Path, kind: str) -> Iterator[dict[str, Any]]:
    path = directory / f"{kind}.jsonl"
    try:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    yield _row(path, number, line)
    except FileNotFoundError as exc:
        raise DatasetError(f"{path} is missing from the dataset") from exc
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text") from exc


def _row(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except ValueError as exc:
        raise DatasetError(f"{path}:{number} is not valid JSON: {exc}") from exc
    if not isinstance(row, dict):
        raise DatasetError(f"{path}:{number} is not a JSON object")
    return row


def _ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


async def database_is_empty(engine: AsyncEngine) -> bool:
    async with AsyncSession(engine) as session:
        return (await session.scalar(select(func.count()).select_from(m.Patient))) == 0


class _Loader:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.counts: dict[str, int] = defaultdict(int)

    async def put(self, model: type[m.Base], rows: list[dict[str, Any]]) -> None:
        connection = await self.session.connection()
        table = m.Base.metadata.tables[model.__tablename__]
        if rows and connection.dialect.driver == "asyncpg":
            await _copy(connection, table, rows)
        else:
            # Core, not the ORM's bulk INSERT: same rows, a third of the time on SQLite.
            for start in range(0, len(rows), CHUNK):
                await connection.execute(insert(table), rows[start : start + CHUNK])
        self.counts[table.name] += len(rows)


async def _copy(connection: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    """COPY the rows on the session's own connection, so they stay in its transaction.

    Each value goes through its column type's bind processor (UTCDateTime, the dialect's JSON
    serializer), so it reaches the driver exactly as SQLAlchemy's INSERT would send it. Rows
    carry every column they load: COPY applies no Python-side defaults.
    """
    dialect = connection.dialect
    columns = [table.c[name] for name in rows[0]]
    converters = [
        (c.name, c.type.dialect_impl(dialect).bind_processor(dialect) or _same) for c in columns
    ]
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None:
        raise BrokenInvariant("driver is None")
    await driver.copy_records_to_table(
        table.name,
        columns=[name for name, _ in converters],
        records=(tuple(convert(row[name]) for name, convert in converters) for row in rows),
    )


def _same(value: Any) -> Any:
    return value


async def load_dataset(
    engine: AsyncEngine, directory: str | Path, hash_password: Callable[[str], str]
) -> SeedReport:
    """Load every kind of the dataset into an empty database, in one transaction."""
    started = time.perf_counter()
    path = Path(directory)
    manifest = _manifest(path)
    async with AsyncSession(engine) as session, session.begin():
        # The asyncpg adapter opens its transaction at the first statement it runs; a COPY on
        # the raw connection would come first and commit on its own. Open it now, so a bad
        # line in the last file leaves nothing behind.
        await session.execute(text("SELECT 1"))
        loader = _Loader(session)
        await _reference(loader, path)
        grants = await _people(loader, path, hash_password)
        await _clinical(loader, path)
        await _messages(loader, path, grants, _ts(manifest["now"]) or datetime.now(UTC))
        await _billing(loader, path)
        await _notes(loader, path, _ts(manifest["now"]) or datetime.now(UTC))
    await _analyze(engine, loader.counts)
    return SeedReport(dict(loader.counts), time.perf_counter() - started, manifest["now"])


async def _analyze(engine: AsyncEngine, counts: Mapping[str, int]) -> None:
    """Give the query planner statistics of what was just loaded.

    A bulk load leaves the tables without statistics until autovacuum gets to them (on
    PostgreSQL) or forever (SQLite). Without them PostgreSQL guessed a filter on
    `messages.sender_kind` kept 96 rows of 97,000 and answered the unread count by a
    sequential scan, 24 ms instead of 0.1 ms: that alone doubled the dashboard's time."""
    tables = sorted(name for name, n in counts.items() if n > 0)  # our own table names
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE " + ", ".join(f'"{t}"' for t in tables)))
        else:
            await connection.execute(text("ANALYZE"))
            await connection.commit()


def _manifest(path: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((path / "manifest.json").read_text("utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError(f"{path} has no manifest.json: not a demo-data directory") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path / 'manifest.json'} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict):
        raise DatasetError(f"{path / 'manifest.json'} is not a JSON object")
    if manifest.get("format_version") not in SUPPORTED_FORMATS:
        raise DatasetError(f"unsupported dataset format {manifest.get('format_version')!r}")
    return manifest


async def _reference(loader: _Loader, path: Path) -> None:
    await loader.put(m.Department, list(_read(path, "departments")))
    await loader.put(m.Provider, list(_read(path, "providers")))
    slots = [
        {**s, "starts_at": _ts(s["starts_at"]), "appointment_id": None}
        for s in _read(path, "slots")
    ]
    await loader.put(
        m.Patient, [{**p, "birth_date": _day(p["birth_date"])} for p in _read(path, "patients")]
    )
    await loader.put(m.Slot, slots)


async def _people(
    loader: _Loader, path: Path, hash_password: Callable[[str], str]
) -> list[dict[str, Any]]:
    hashes: dict[str, str] = {}  # one hash per distinct demo password, not per account
    accounts = []
    for a in _read(path, "accounts"):
        password = a.pop("password")
        if password not in hashes:
            hashes[password] = hash_password(password)
        accounts.append(
            {
                **a,
                "password_hash": hashes[password],
                "created_at": _ts(a["created_at"]),
                "last_login_at": _ts(a["last_login_at"]),
                "failed_sign_ins": 0,
                "locked_until": None,
            }
        )
    await loader.put(m.Account, accounts)
    grants = [
        {
            **g,
            "starts_at": _ts(g["starts_at"]),
            "ends_at": _ts(g["ends_at"]),
            "opened_note_categories": [],
        }
        for g in _read(path, "proxy_grants")
    ]
    await loader.put(m.ProxyGrant, grants)
    return grants


async def _clinical(loader: _Loader, path: Path) -> None:
    appointments = [{**a, "starts_at": _ts(a["starts_at"])} for a in _read(path, "appointments")]
    await loader.put(m.Appointment, appointments)
    results, components = [], []
    for r in _read(path, "results"):
        for position, c in enumerate(r.pop("components") or []):
            value = c["value"]
            components.append(
                {
                    "result_id": r["id"],
                    "patient_id": r["patient_id"],
                    "position": position,
                    "loinc": c["loinc"],
                    "name": c["name"],
                    "value": _number(value),
                    "value_text": None if _number(value) is not None else str(value),
                    "unit": c["unit"],
                    "ref_low": _number(c["ref_low"]),
                    "ref_high": _number(c["ref_high"]),
                }
            )
        for key in ("collected_at", "resulted_at", "released_at"):
            r[key] = _ts(r[key])
        results.append(r)
    await loader.put(m.Result, results)
    await loader.put(m.ResultComponent, components)
    dated = {
        "medications": ("start_date", "end_date"),
        "allergies": ("recorded_on",),
        "problems": ("onset_date",),
        "immunizations": ("administered_on",),
    }
    models: dict[str, type[m.Base]] = {
        "medications": m.Medication,
        "allergies": m.Allergy,
        "problems": m.Problem,
        "immunizations": m.Immunization,
    }
    for kind, keys in dated.items():
        rows = [{**row, **{k: _day(row[k]) for k in keys}} for row in _read(path, kind)]
        await loader.put(models[kind], rows)


async def _notes(loader: _Loader, path: Path, now: datetime) -> None:
    """Clinical notes: an optional kind (a dataset written before it has none)."""
    if not (path / "clinical_notes.jsonl").exists():
        return
    authors = {p["id"]: p["display_name"] for p in _read(path, "providers")}  # the name as signed
    notes = [
        {
            **n,
            "author_name": authors.get(n["author_provider_id"], ""),
            "signed_at": _ts(n["signed_at"]),
            "received_at": _ts(n["signed_at"]) or now,
            "supersedes_id": None,
            "superseded_by_id": None,
            "withheld_exception": None,
            "withheld_reason": None,
            "hidden_from_proxies": False,
            "hidden_changed_at": None,
        }
        for n in _read(path, "clinical_notes")
    ]
    await loader.put(m.ClinicalNote, notes)


def _readers(
    accounts_by_patient: dict[str, str], grants: list[dict[str, Any]], now: datetime
) -> dict[str, set[str]]:
    """Accounts that read each patient's messages: their own, and proxies with `messages`."""
    readers: dict[str, set[str]] = defaultdict(set)
    for patient_id, account_id in accounts_by_patient.items():
        readers[patient_id].add(account_id)
    for g in grants:
        effective = (
            g["status"] == "active"
            and g["starts_at"] <= now
            and (g["ends_at"] is None or g["ends_at"] > now)
        )
        if effective and "messages" in g["scopes"]:
            readers[g["patient_id"]].add(g["proxy_account_id"])
    return readers


async def _messages(
    loader: _Loader, path: Path, grants: list[dict[str, Any]], now: datetime
) -> None:
    accounts_by_patient = {
        a["patient_id"]: a["id"] for a in _read(path, "accounts") if a["patient_id"]
    }
    readers = _readers(accounts_by_patient, grants, now)
    threads = [
        {**t, "created_at": _ts(t["created_at"]), "last_message_at": _ts(t["last_message_at"])}
        for t in _read(path, "message_threads")
    ]
    patient_of = {t["id"]: t["patient_id"] for t in threads}
    await loader.put(m.MessageThread, threads)
    messages: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    read_through: dict[str, datetime] = {}
    for msg in _read(path, "messages"):
        read_at = msg.pop("read_at")
        msg["sent_at"] = sent_at = datetime.fromisoformat(msg["sent_at"])
        messages.append(msg)
        if msg["sender_kind"] != "provider":
            continue
        if read_at is not None:
            read_through[msg["thread_id"]] = max(
                sent_at, read_through.get(msg["thread_id"], sent_at)
            )
        elif now - sent_at <= NOTIFY_WINDOW:
            patient_id = patient_of[msg["thread_id"]]
            for account_id in sorted(readers[patient_id]):
                notifications.append(
                    {
                        "id": f"ntf-{msg['id']}-{account_id}",
                        "account_id": account_id,
                        "patient_id": patient_id,
                        "kind": "MESSAGE_RECEIVED",
                        "area": "messages",
                        "title": f"New message from {msg['sender_name']}",
                        "body": msg["body"][:200],
                        "object_id": msg["thread_id"],
                        "created_at": sent_at,
                        "read_at": None,
                    }
                )
    await loader.put(m.Message, messages)
    reads = [
        {"thread_id": thread_id, "account_id": account_id, "read_through": at}
        for thread_id, at in read_through.items()
        for account_id in sorted(readers[patient_of[thread_id]])
    ]
    await loader.put(m.ThreadRead, reads)
    await loader.put(m.Notification, notifications)


async def _billing(loader: _Loader, path: Path) -> None:
    statements, lines = [], []
    for s in _read(path, "statements"):
        for line in s.pop("line_items"):
            lines.append(
                {**line, "statement_id": s["id"], "service_date": _day(line["service_date"])}
            )
        statements.append(
            {
                **s,
                "statement_date": _day(s["statement_date"]),
                "due_date": _day(s["due_date"]),
                "currency": "USD",
            }
        )
    await loader.put(m.Statement, statements)
    await loader.put(m.StatementLineItem, lines)
    payments = [{**p, "paid_at": _ts(p["paid_at"])} for p in _read(path, "payments")]
    await loader.put(m.Payment, payments)
