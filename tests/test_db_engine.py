"""The engine's PostgreSQL connections plan each prepared statement once (generic plans):
planning each execution anew cost PostgreSQL more CPU than running the statements."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import JSON, literal_column, select, text

from persistence.db import create_engine, json_loads


async def test_postgres_connections_use_generic_plans() -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL tests skipped: set TEST_DATABASE_URL to run them")
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            mode = await connection.scalar(text("SHOW plan_cache_mode"))
    finally:
        await engine.dispose()
    assert mode == "force_generic_plan"


JSON_VALUES = [
    '{"scopes": ["RESULTS", "MESSAGES"], "n": 1.5, "ok": true, "none": null}',
    '{"big": 123456789012345678901234567890}',  # past 64 bits: orjson makes it a float
    '{"small": -9223372036854775809}',  # just past 64 bits, signed
    '["\\ud800"]',  # a lone surrogate: orjson refuses it too
]


@pytest.mark.parametrize("value", JSON_VALUES)
def test_json_columns_read_as_the_standard_library_reads_them(value: str) -> None:
    assert json_loads(value) == json.loads(value)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_the_engines_decode_json_columns_with_json_loads(
    backend: str, tmp_path: Path
) -> None:
    """Both backends hand JSON and JSONB values to `json_loads` (orjson, else the standard
    library), through SQLAlchemy's JSON type and asyncpg's codecs."""
    url = os.environ.get("TEST_DATABASE_URL") if backend == "postgres" else None
    if backend == "postgres" and not url:
        pytest.skip("PostgreSQL tests skipped: set TEST_DATABASE_URL to run them")
    engine = create_engine(url or f"sqlite+aiosqlite:///{tmp_path / 'json.db'}")
    assert engine.dialect._json_deserializer is json_loads
    big = {"big": 123456789012345678901234567890, "scopes": ["RESULTS"]}
    try:
        async with engine.connect() as connection:
            if backend == "postgres":
                raw = await connection.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                value = await driver.fetchval(
                    "SELECT $1::text::jsonb",
                    '{"big": 123456789012345678901234567890, "scopes": ["RESULTS"]}',
                )
            else:  # SQLAlchemy's JSON type on SQLite: its result processor
                stored = literal_column(f"'{json.dumps(big)}'", JSON)
                value = await connection.scalar(select(stored))
    finally:
        await engine.dispose()
    assert value == big
