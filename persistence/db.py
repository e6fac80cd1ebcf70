"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# Session events every writer needs: outbox seq order = commit order, and the after-commit
# kick of the real-time publisher (persistence/outbox_order.py).
from persistence import outbox_order as _outbox_order  # noqa: F401

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/portal.db"


def normalize_url(url: str) -> str:
    """Accept the URLs operators paste (postgres://, postgresql://) and pick the async driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalize_url(url)).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = normalize_url(url)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # A request holds one connection from its authentication to its audit (see
    # loaders.base.RequestSession), so 10 serve any concurrency of one process. No overflow:
    # connections opened past the pool's size were closed again when given back, and under
    # load that open/close churn (a TCP and authentication handshake, asyncpg's type
    # introspection) cost more than waiting for a pooled one. No pre-ping: a round trip
    # (BEGIN, ping, ROLLBACK) per checkout; a connection PostgreSQL dropped fails its
    # statement instead, SQLAlchemy then invalidates the pool and the next checkout
    # reconnects.
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 0)
    kwargs.setdefault("pool_pre_ping", False)
    return create_async_engine(url, **kwargs)


def reading_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, its connections in autocommit on PostgreSQL: reads without a
    transaction around them. SQLite keeps its transactions (a read there keeps the snapshot
    of its first statement, and its writers need them)."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
