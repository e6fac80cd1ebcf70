"""The migrations build exactly the tables the models describe, on every backend.

Several areas add tables in their own migrations; this fails as soon as a model and its
migration disagree (a column, an index, a type), before a deploy finds out.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from persistence.db import create_engine
from persistence.migrate import downgrade, upgrade
from persistence.models import Base
from tests.conftest import BACKENDS, make_database


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migrated_schema_matches_the_models(backend: str, tmp_path: Path) -> None:
    database = await make_database(backend, tmp_path, None)
    try:
        engine = create_engine(database.url)
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
        await engine.dispose()
        assert differences == []
    finally:
        if database.drop:
            await database.drop()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_every_migration_downgrades_and_upgrades_again(backend: str, tmp_path: Path) -> None:
    database = await make_database(backend, tmp_path, None)
    try:
        await asyncio.to_thread(downgrade, database.url, "base")
        await asyncio.to_thread(upgrade, database.url)
    finally:
        if database.drop:
            await database.drop()
