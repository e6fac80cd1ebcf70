"""The engine's PostgreSQL connections plan each prepared statement once (generic plans):
planning each execution anew cost PostgreSQL more CPU than running the statements."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from persistence.db import create_engine


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
