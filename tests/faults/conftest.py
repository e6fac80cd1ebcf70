"""Fault tests run against a PostgreSQL cluster of their own that they stop and start
(tests/throwaway_pg.py), never the machine's shared one; skipped where PostgreSQL's server
binaries are not installed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from persistence.db import create_engine
from persistence.migrate import upgrade
from persistence.seed import load_dataset
from tests.conftest import Database, _fast_hash
from tests.throwaway_pg import ThrowawayPostgres, available


@pytest.fixture(scope="session")
async def cluster() -> AsyncIterator[ThrowawayPostgres]:
    reason = available()
    if reason is not None:
        pytest.skip(f"fault tests skipped: {reason}")
    pg = await ThrowawayPostgres().start()
    yield pg
    await pg.destroy()


async def seeded_on(pg: ThrowawayPostgres, name: str, dataset: Path | None) -> Database:
    """A migrated (and seeded) database `name` on the throwaway cluster."""
    if not pg.accepting():
        await pg.start()
    admin = create_engine(pg.url(), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = pg.url(name)
    await asyncio.to_thread(upgrade, url)
    if dataset is not None:
        engine = create_engine(url)
        await load_dataset(engine, dataset, _fast_hash)
        await engine.dispose()
    return Database("postgres", url, None)
