"""Fixtures of the real-time tests: a dataset dated now (the servers run on the wall clock),
a fresh database per test on each backend, real `portal serve` processes, Redis."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from persistence.demodata import Generator
from tests.conftest import BACKENDS, Database, make_database
from tests.realtime.harness import Family, Server, family

StartServer = Callable[..., Awaitable[Server]]


@contextmanager
def statements_sent(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement sent on `engine` (PostgreSQL) while inside: those through
    SQLAlchemy's cursor, and what asyncpg sends beside it (BEGIN, ROLLBACK, ...), seen by a
    query logger put on each connection at its first checkout.

    A statement `persistence.raw` sends is told to cursor listeners and, once its columns
    are known (its second run in the process on), logged by asyncpg too: it is counted once,
    whichever tests ran before in the process."""
    sent: list[str] = []
    told: Counter[str] = Counter()  # told to the cursor listener, not yet seen logged

    def logged(record: Any) -> None:
        if told[record.query] > 0:
            told[record.query] -= 1
        else:
            sent.append(record.query)

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if not record.info.get("logged"):
            dbapi_connection.driver_connection.add_query_logger(logged)
            record.info["logged"] = True

    def cursor(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)
        told[statement] += 1

    event.listen(engine.sync_engine, "checkout", checkout)
    event.listen(engine.sync_engine, "before_cursor_execute", cursor)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "checkout", checkout)
        event.remove(engine.sync_engine, "before_cursor_execute", cursor)


@pytest.fixture(scope="session")
def live_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data as of a minute ago: the servers' clock is the real one."""
    out = tmp_path_factory.mktemp("live-dataset")
    now = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    Generator(patients=40, seed=1, now=now.isoformat().replace("+00:00", "Z")).write(str(out))
    return out


@pytest.fixture(params=BACKENDS)
async def live_db(
    request: pytest.FixtureRequest, tmp_path: Path, live_dataset: Path
) -> AsyncIterator[Database]:
    database = await make_database(request.param, tmp_path, live_dataset)
    yield database
    if database.drop:
        await database.drop()


@pytest.fixture
async def people(live_db: Database) -> Family:
    return await family(live_db.url)


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis tests skipped: set TEST_REDIS_URL to run them")
    return url


@pytest.fixture
async def start_server(live_db: Database, tmp_path: Path) -> AsyncIterator[StartServer]:
    """Start `portal serve` processes on the test's database; all stopped at the end."""
    started: list[Server] = []
    prefix = f"test-{uuid.uuid4().hex[:8]}:"

    async def start(**env: str) -> Server:
        env.setdefault("REDIS_CHANNEL_PREFIX", prefix)
        env.setdefault("REDIS_KEY_PREFIX", prefix)
        server = Server(live_db.url, tmp_path, env)
        started.append(server)
        return await server.start()

    yield start
    for server in started:
        await server.stop()
        print(f"--- server {server.port} log ---\n{server.log_tail(60)}")  # shown on failure
