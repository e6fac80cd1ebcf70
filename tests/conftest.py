"""Shared fixtures: a generated dataset, real databases (SQLite always, PostgreSQL when
TEST_DATABASE_URL is set), the app with a fixed clock, and an HTTP client through ASGI.

Every database fixture is parametrized over the backends, so each test that uses one runs
on SQLite and again on PostgreSQL; without TEST_DATABASE_URL the PostgreSQL runs are
skipped, and pytest's summary says so.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from persistence.audit import INSERT_JSON_RAW
from persistence.db import create_engine, normalize_url
from persistence.demodata import Generator
from persistence.migrate import upgrade
from persistence.models import new_id
from persistence.seed import load_dataset
from persistence.sessions import NewSession, start_session
from portal.app import create_app
from runtime.config import Settings
from runtime.http_settings import HttpSettings, QueryLimits
from runtime.security import hash_password
from runtime.services import Services, build_services

DATASET_NOW = "2026-11-22T12:00:00Z"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DATASET_PATIENTS = 60
DEMO_PASSWORD = "PortalDemo-2026!"
BACKENDS = ["sqlite", "postgres"]

# The showcase accounts and patients of the demo data (stable for every seed and size).
ALEX, JORDAN, LEO_ACCOUNT, SUSAN, DANIEL, GRACE = (
    "alex.rivera",
    "jordan.rivera",
    "leo.rivera",
    "susan.walsh",
    "daniel.chen",
    "grace.mensah",
)


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dataset")
    Generator(patients=DATASET_PATIENTS, seed=1, now=DATASET_NOW).write(str(out))
    return out


def _postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


@dataclass
class Database:
    backend: str
    url: str
    drop: Any


async def _create_database(backend: str, tmp: Path) -> Database:
    if backend == "sqlite":
        path = tmp / f"portal-{uuid.uuid4().hex[:8]}.db"
        return Database(backend, f"sqlite+aiosqlite:///{path}", None)
    base = _postgres_url()
    if base is None:
        pytest.skip("PostgreSQL tests skipped: set TEST_DATABASE_URL to run them")
    name = f"portal_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()

    async def drop() -> None:
        engine = create_engine(base, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()

    url = make_url(normalize_url(base)).set(database=name).render_as_string(hide_password=False)
    return Database(backend, url, drop)


async def make_database(backend: str, tmp: Path, dataset: Path | None) -> Database:
    database = await _create_database(backend, tmp)
    await asyncio.to_thread(upgrade, database.url)
    if dataset is not None:
        engine = create_engine(database.url)
        await load_dataset(engine, dataset, _fast_hash)
        await engine.dispose()
    return database


_HASHES: dict[str, str] = {}


def _fast_hash(password: str) -> str:
    if password not in _HASHES:
        _HASHES[password] = hash_password(password)
    return _HASHES[password]


@pytest.fixture(scope="session", params=BACKENDS)
async def seeded_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, dataset_dir: Path
) -> AsyncIterator[Database]:
    """One seeded database per backend for the whole run: for tests that only read."""
    database = await make_database(request.param, tmp_path_factory.mktemp("db"), dataset_dir)
    yield database
    if database.drop:
        await database.drop()


@pytest.fixture(params=BACKENDS)
async def fresh_db(
    request: pytest.FixtureRequest, tmp_path: Path, dataset_dir: Path
) -> AsyncIterator[Database]:
    """A freshly seeded database per test: for tests that write."""
    database = await make_database(request.param, tmp_path, dataset_dir)
    yield database
    if database.drop:
        await database.drop()


# Tests ask for many objects at once through aliases (one `node` per case); the alias cap of
# production stays in force where tests pass their own `http` settings (tests/test_limits.py).
TEST_HTTP = HttpSettings(query=QueryLimits(max_aliases=1_000, max_fields=5_000))


def settings_for(database_url: str, **overrides: Any) -> Settings:
    return replace(
        Settings(env="test", database_url=database_url, audit_flush_seconds=3600, http=TEST_HTTP),
        **overrides,
    )


class Portal:
    """The app over one database, with its services, a fixed clock and a client."""

    def __init__(self, services: Services, client: httpx.AsyncClient) -> None:
        self.services = services
        self.client = client
        self.statements = 0

    @property
    def clock(self) -> FixedClock:
        clock = self.services.clock
        assert isinstance(clock, FixedClock)
        return clock

    async def token(self, username: str) -> str:
        """An access token for a demo account, of a new session as signIn would issue."""
        return await self.token_for_account(ACCOUNT_IDS[username])

    async def token_for_account(self, account_id: str) -> str:
        session_id, now = new_id("ses"), self.clock.now()
        new = NewSession(account_id, session_id, "Test client", None, None)
        await start_session(self.services.sessions, new, now, timedelta(days=1))
        token, _ = self.services.tokens.issue(account_id, now, session_id)
        return token

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_user: str | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        headers = {}
        if as_user is not None:
            token = await self.token(as_user)
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        response = await self.client.post("/graphql", json=body, headers=headers)
        assert response.status_code in (200, 400), response.text
        result: dict[str, Any] = response.json()
        # asyncpg tells its query loggers soon after a statement, not during it: let them
        # count this request's last statements (its audit INSERT) before the caller reads
        await asyncio.sleep(0)
        return result


ACCOUNT_IDS = {
    ALEX: "acc-0000001",
    JORDAN: "acc-0000002",
    LEO_ACCOUNT: "acc-0000003",
    SUSAN: "acc-0000004",
    DANIEL: "acc-0000005",
    GRACE: "acc-0000006",
}


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", ";")


def _count_transaction_control(count: Any) -> Any:
    """A pool `checkout` listener: once per connection, an asyncpg query logger that calls
    `count` for each statement that bypasses SQLAlchemy's cursor: transaction control, and
    the audit's INSERT run by asyncpg itself (persistence/audit.py)."""

    def on_query(record: Any) -> None:
        query = record.query
        if query == INSERT_JSON_RAW or query.lstrip().upper().startswith(TRANSACTION_CONTROL):
            count()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if not record.info.get("counted"):
            dbapi_connection.driver_connection.add_query_logger(on_query)
            record.info["counted"] = True

    return checkout


async def _portal(database: Database, **overrides: Any) -> AsyncIterator[Portal]:
    engine: AsyncEngine = create_engine(database.url)
    services = build_services(
        settings_for(database.url, **overrides), FixedClock(NOW), engine=engine
    )
    portal: Portal

    def count(*_args: Any) -> None:
        portal.statements += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    if engine.dialect.name == "postgresql":
        # Transaction control is sent beside the cursor (asyncpg's BEGIN, COMMIT, ROLLBACK, a
        # pre-ping): counted too, as PostgreSQL's pg_stat_statements counts them.
        event.listen(engine.sync_engine, "checkout", _count_transaction_control(count))
    app = create_app(services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        portal = Portal(services, client)
        yield portal
    await services.audit.flush()
    await services.push.close()  # the ASGI transport runs no lifespan
    await services.sso.close()
    await engine.dispose()


@pytest.fixture
async def portal(seeded_db: Database) -> AsyncIterator[Portal]:
    """The app on the shared seeded database (read-only tests)."""
    async for p in _portal(seeded_db):
        yield p


@pytest.fixture
async def fresh_portal(fresh_db: Database) -> AsyncIterator[Portal]:
    """The app on a database of its own (tests that write)."""
    async for p in _portal(fresh_db):
        yield p


def errors_of(result: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(code, reason) of each error, for terse assertions."""
    return [
        (e["extensions"]["code"], e["extensions"].get("reason")) for e in result.get("errors", [])
    ]


def patient_gid(patient_id: str) -> str:
    from schema.base import to_global_id

    return str(to_global_id("Patient", patient_id))
