"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import weakref
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import orjson
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# Session events every writer needs: outbox seq order = commit order, and the after-commit
# kick of the real-time publisher (persistence/outbox_order.py).
from persistence import outbox_order as _outbox_order  # noqa: F401

T = TypeVar("T")
log = logging.getLogger("portal.db")

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/portal.db"
# How long a new PostgreSQL connection may take before the attempt counts as "unreachable":
# asyncpg waits 60 s by default, which would hold every request while a host is down.
CONNECT_TIMEOUT_SECONDS = 5.0
# SQLSTATEs that mean "the server is not there for you right now", not "your SQL is wrong":
# class 08 (connection exception), 57P01-57P03 (admin or crash shutdown, cannot connect
# now: starting up or shutting down), 53300 (too many connections).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


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


# asyncpg prepares each statement once per connection (SQLAlchemy keeps them); PostgreSQL
# planned most of them anew at each execution nonetheless ("custom" plans, chosen when its
# plan for any parameters looks costlier): 0.25-0.6 ms of its CPU a statement, more than
# running it. Every statement here reads or writes by keys and indexes, and the lists of
# "first N per parent" are LATERAL index walks (persistence/paging.py) whose plan is the
# same for any parameters: one plan per prepared statement and connection. (A dashboard's
# statements, prepared and run on one connection: 4.9 ms with custom plans and the former
# windowed pages, 1.8 ms now.)
SERVER_SETTINGS = {"plan_cache_mode": "force_generic_plan"}


# A run of 19 digits: maybe an integer past 64 bits, which orjson reads as a float.
_LONG_NUMBER = re.compile(r"\d{19}")


def json_loads(text: str) -> Any:
    """The JSON columns' decoder (both backends): orjson, one C call where the standard
    library's is three Python calls per value (the grants' scopes, a dashboard's JSON
    columns: ~6 values a request). A value orjson would read otherwise (an integer past
    64 bits, which it makes a float) or refuses (a lone surrogate) is the standard
    library's to read, as before."""
    if _LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = normalize_url(url)
    kwargs.setdefault("json_deserializer", json_loads)
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
    kwargs.setdefault(
        "connect_args",
        {"timeout": CONNECT_TIMEOUT_SECONDS, "server_settings": dict(SERVER_SETTINGS)},
    )
    return create_async_engine(url, **kwargs)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database could not be reached (down, restarting, refusing
    connections, or a connection it dropped), so the same request may succeed shortly.

    SQLAlchemy marks an error on a connection the server dropped with
    `connection_invalidated` (and invalidates the pool's older connections with it, so the
    pool recovers by itself whether or not it pre-pings); a refused or timed-out connect
    arrives as the socket's own error; a server starting up or shutting down answers with a
    SQLSTATE of its own.
    """
    for cause in _chain(error):
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, sa_exc.TimeoutError):  # no pooled connection came free in time
            return True
        if isinstance(cause, ConnectionError | TimeoutError | socket.gaierror):
            return True
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
    return False


def reading_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, its connections in autocommit on PostgreSQL: reads without a
    transaction around them. SQLite keeps its transactions (a read there keeps the snapshot
    of its first statement, and its writers need them). `autocommit_connection` checks one
    of its connections out for less."""
    if engine.dialect.name != "postgresql":
        return engine
    reader = engine.execution_options(isolation_level="AUTOCOMMIT")
    pool = engine.sync_engine.pool
    if not event.contains(pool, "reset", _end_autocommit):
        event.listen(pool, "reset", _end_autocommit)  # kept by the pool's dispose()
    _POOLED[reader.sync_engine] = engine
    return reader


# A reading engine's (`reading_engine`) engine without the isolation level option.
_POOLED: weakref.WeakKeyDictionary[Engine, AsyncEngine] = weakref.WeakKeyDictionary()
# In a pooled connection's `info` while `autocommit_connection` has it in autocommit.
_AUTOCOMMIT = "portal.autocommit"


async def autocommit_connection(reader: AsyncEngine) -> AsyncConnection:
    """`reader.connect()` (a `reading_engine`): a pooled connection in autocommit until it
    is given back. SQLAlchemy sets an engine's isolation level option on each connection
    it checks out through a listener (`engine_connect`) and undoes it at each check-in, and
    that listener makes every statement on the connection ask for `before_cursor_execute`
    listeners (persistence.raw): ~8 µs and ~50 Python calls a request. Here the connection
    comes from the engine itself, its DBAPI connection put in autocommit, and the pool's
    `reset` (every check-in, before its rollback; `_end_autocommit`) takes it out again,
    so a writer never gets it so. The same isolation, the same pool."""
    engine = _POOLED.get(reader.sync_engine)
    if engine is None:
        return await reader.connect()
    connection = await engine.connect()
    try:
        pooled = connection.sync_connection.connection  # type: ignore[union-attr]
        pooled.info[_AUTOCOMMIT] = True
        pooled.dbapi_connection.autocommit = True  # type: ignore[union-attr]
    except BaseException:
        await connection.close()
        raise
    return connection


def _end_autocommit(dbapi_connection: Any, record: Any, _state: Any) -> None:
    """The pool's `reset` listener: a connection `autocommit_connection` put in autocommit
    back to its own isolation level (the adapter's setting, untouched by that)."""
    if record is not None and record.info.pop(_AUTOCOMMIT, False):
        dbapi_connection.autocommit = False


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def retry_while_unavailable(
    attempt: Callable[[], Awaitable[T]], what: str, give_up_after: float = 300.0
) -> T:
    """Run `attempt` until it gets through to the database (backing off up to 5 s), for a
    write that records something already done outside (a mail or SMS sent): giving up would
    do it again on the next round. Any other error, or an outage longer than
    `give_up_after` seconds, is raised."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after
    delay = 0.25
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not database_unavailable(exc) or loop.time() + delay > deadline:
                raise
            log.warning("%s: database unavailable, retrying in %.2fs", what, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)
