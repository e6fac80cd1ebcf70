"""`portal seed` and `portal migrate` on real databases: what a seed loads, and when it refuses.

The commands run through `portal.cli.main` in a worker thread: they call `asyncio.run` and
Alembic, which cannot run inside the test's event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from persistence import models as m
from persistence.db import create_engine
from portal.cli import main
from runtime.security import verify_password
from tests.conftest import BACKENDS, Database, make_database

# Rows the loader derives from records nested in another kind's records.
NESTED = {
    "result_components": ("results", "components"),
    "statement_line_items": ("statements", "line_items"),
}


async def portal_cli(*argv: str) -> int:
    """`portal ARGV...`; main() installs its own log handler, so the test's are put back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return await asyncio.to_thread(main, list(argv))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def _records(dataset: Path, kind: str) -> list[dict[str, Any]]:
    with open(dataset / f"{kind}.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _manifest(dataset: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((dataset / "manifest.json").read_text("utf-8"))
    return manifest


def _expected_counts(dataset: Path) -> dict[str, int]:
    expected = {kind: f["records"] for kind, f in _manifest(dataset)["files"].items()}
    for table, (kind, key) in NESTED.items():
        expected[table] = sum(len(r[key] or []) for r in _records(dataset, kind))
    return expected


async def _counts(url: str, tables: list[str]) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            counts = {}
            for name in tables:
                table = m.Base.metadata.tables[name]
                counts[name] = int(
                    await connection.scalar(select(func.count()).select_from(table)) or 0
                )
            return counts
    finally:
        await engine.dispose()


async def _rows(url: str, statement: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(statement)).all())
    finally:
        await engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
async def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, dataset_dir: Path
) -> AsyncIterator[Database]:
    """An empty migrated database, then `portal seed --from` the shared small dataset."""
    database = await make_database(request.param, tmp_path_factory.mktemp("seed"), None)
    assert await portal_cli("--database-url", database.url, "seed", "--from", str(dataset_dir)) == 0
    yield database
    if database.drop:
        await database.drop()


@pytest.fixture(params=BACKENDS)
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    database = await make_database(request.param, tmp_path, None)
    yield database
    if database.drop:
        await database.drop()


async def test_seed_loads_one_row_per_record(seeded: Database, dataset_dir: Path) -> None:
    expected = _expected_counts(dataset_dir)
    assert await _counts(seeded.url, sorted(expected)) == expected
    assert all(expected.values())  # every kind has records, so each count is meaningful


async def test_seed_leaves_planner_statistics_of_what_it_loaded(seeded: Database) -> None:
    """Without them PostgreSQL planned the dashboard's unread count as a sequential scan."""
    if seeded.backend == "postgres":
        query = text(
            "SELECT DISTINCT tablename FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename IN ('messages', 'results')"
        )
    else:
        query = text("SELECT DISTINCT tbl FROM sqlite_stat1 WHERE tbl IN ('messages', 'results')")
    assert sorted(row[0] for row in await _rows(seeded.url, query)) == ["messages", "results"]


async def test_seeded_values_convert_dates_timestamps_and_json(
    seeded: Database, dataset_dir: Path
) -> None:
    patient = _records(dataset_dir, "patients")[0]
    [(birth_date, address)] = await _rows(
        seeded.url,
        select(m.Patient.birth_date, m.Patient.address).where(m.Patient.id == patient["id"]),
    )
    assert (birth_date, address) == (date.fromisoformat(patient["birth_date"]), patient["address"])

    grant = next(g for g in _records(dataset_dir, "proxy_grants") if g["ends_at"] is not None)
    [(scopes, starts_at, ends_at)] = await _rows(
        seeded.url,
        select(m.ProxyGrant.scopes, m.ProxyGrant.starts_at, m.ProxyGrant.ends_at).where(
            m.ProxyGrant.id == grant["id"]
        ),
    )
    assert scopes == grant["scopes"]
    assert starts_at == datetime.fromisoformat(grant["starts_at"]).astimezone(UTC)
    assert ends_at == datetime.fromisoformat(grant["ends_at"]).astimezone(UTC)
    assert starts_at.tzinfo is not None

    result = next(r for r in _records(dataset_dir, "results") if r["components"])
    components = await _rows(
        seeded.url,
        select(m.ResultComponent.loinc, m.ResultComponent.value, m.ResultComponent.value_text)
        .where(m.ResultComponent.result_id == result["id"])
        .order_by(m.ResultComponent.position),
    )
    assert [c.loinc for c in components] == [c["loinc"] for c in result["components"]]
    for row, source in zip(components, result["components"], strict=True):
        if isinstance(source["value"], int | float):
            assert (row.value, row.value_text) == (float(source["value"]), None)
        else:
            assert (row.value, row.value_text) == (None, str(source["value"]))


async def test_showcase_accounts_can_be_looked_up(seeded: Database, dataset_dir: Path) -> None:
    manifest = _manifest(dataset_dir)
    showcase = manifest["showcase_accounts"]
    rows = await _rows(
        seeded.url,
        select(m.Account.username, m.Account.id, m.Account.patient_id, m.Account.password_hash)
        .where(m.Account.username.in_([a["username"] for a in showcase]))
        .order_by(m.Account.id),
    )
    assert [(r.username, r.id, r.patient_id) for r in rows] == [
        (a["username"], a["account_id"], a["patient_id"]) for a in showcase
    ]
    assert all(verify_password(r.password_hash, manifest["demo_password"]) for r in rows)


async def test_second_seed_into_a_non_empty_database_is_refused(
    seeded: Database, dataset_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = await _counts(seeded.url, ["patients", "accounts"])
    code = await portal_cli("--database-url", seeded.url, "seed", "--from", str(dataset_dir))
    assert code == 1
    assert "already has data" in capsys.readouterr().err
    assert await _counts(seeded.url, ["patients", "accounts"]) == before


async def test_if_empty_skips_a_non_empty_database(
    seeded: Database, dataset_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = await _counts(seeded.url, ["patients", "accounts"])
    argv = ["--database-url", seeded.url, "seed", "--from", str(dataset_dir), "--if-empty"]
    assert await portal_cli(*argv) == 0
    assert "not seeding" in capsys.readouterr().out
    assert await _counts(seeded.url, ["patients", "accounts"]) == before


async def test_directory_without_manifest_is_rejected(
    empty_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_dataset = tmp_path / "not-a-dataset"
    not_a_dataset.mkdir()
    (not_a_dataset / "patients.jsonl").write_text("", "utf-8")
    code = await portal_cli("--database-url", empty_db.url, "seed", "--from", str(not_a_dataset))
    assert code == 2
    err = capsys.readouterr().err
    assert f"{not_a_dataset} has no manifest.json" in err
    assert "Traceback" not in err
    assert await _counts(empty_db.url, ["patients"]) == {"patients": 0}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        pytest.param(("manifest.json", "{bad"), "manifest.json is not valid JSON", id="manifest"),
        pytest.param(("manifest.json", "[1, 2]"), "is not a JSON object", id="manifest-array"),
        pytest.param(("accounts.jsonl", '{"id": "acc-x"\n'), "accounts.jsonl:1", id="jsonl-line"),
        pytest.param(("accounts.jsonl", None), "accounts.jsonl is missing", id="missing-file"),
    ],
)
async def test_a_damaged_dataset_is_refused_and_nothing_is_loaded(
    empty_db: Database,
    dataset_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: tuple[str, str | None],
    message: str,
) -> None:
    damaged = tmp_path / "damaged"
    shutil.copytree(dataset_dir, damaged)
    name, content = damage
    if content is None:
        (damaged / name).unlink()
    else:
        (damaged / name).write_text(content, "utf-8")
    code = await portal_cli("--database-url", empty_db.url, "seed", "--from", str(damaged))
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert await _counts(empty_db.url, ["patients", "accounts"]) == {"patients": 0, "accounts": 0}


async def test_migrate_creates_the_schema_in_an_empty_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "portal.db"
    path.touch()
    assert await portal_cli("--database-url", f"sqlite:///{path}", "migrate") == 0
    assert await portal_cli("--database-url", f"sqlite:///{path}", "migrate") == 0  # idempotent
    with closing(sqlite3.connect(path)) as db:
        tables = {
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        [(revision,)] = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert set(m.Base.metadata.tables) <= tables
    assert revision
