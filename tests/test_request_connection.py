"""A request's shared session on PostgreSQL (loaders/base.py RequestSession): bound to a
connection it checks out from the pool itself, its reads run on that connection by
persistence.raw without a SessionTransaction, an ORM read on the same connection, the
connection back in the pool when the request ends, and a connection that cannot be had
fails the use at once and leaves the request gate free. PostgreSQL only (skipped without
TEST_DATABASE_URL); SQLite keeps its one-snapshot session (tests/test_raw_rows_sqlite.py).
A use after the request's end gets a session of its own, given back: SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from loaders.base import FairGate, RequestSession, SessionLoader
from persistence import models as m
from persistence import raw
from persistence.audit import AuditEntry
from persistence.db import (
    autocommit_connection,
    create_engine,
    database_unavailable,
    reading_engine,
    session_factory,
)
from persistence.queries import people
from tests.conftest import NOW, Database, make_database

_ENTRY = AuditEntry(
    datetime(2026, 12, 7, tzinfo=UTC), "acc-1", "A", "pat-1", "self", "read", "Op", "T", None, None
)


@pytest.fixture(scope="module")
async def database(
    tmp_path_factory: pytest.TempPathFactory, dataset_dir: Path
) -> AsyncIterator[Database]:
    db = await make_database("postgres", tmp_path_factory.mktemp("reqconn"), dataset_dir)
    yield db
    if db.drop:
        await db.drop()


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url, pool_size=2)
    yield engine
    await engine.dispose()


def checked_out(engine: AsyncEngine) -> int:
    return engine.pool.checkedout()  # type: ignore[attr-defined,no-any-return]


async def test_reads_run_on_the_requests_own_connection(engine: AsyncEngine) -> None:
    gate = FairGate(1)
    request = RequestSession(session_factory(reading_engine(engine)), shared=True, gate=gate)
    async with request() as session:
        assert isinstance(session.bind, AsyncConnection)  # checked out for the request
        connection = session.bind
        assert await raw.connection_of(session) is connection
        principal, _ = await people.principal_for(session, "acc-0000001", NOW)
        assert principal is not None
        assert not session.sync_session.in_transaction()  # raw needed none
        assert checked_out(engine) == 1
    async with request.writing() as session:  # the audit's turn: the same connection
        assert await raw.connection_of(session) is connection
        accounts = (await session.scalars(select(m.Account.id).limit(2))).all()  # ORM, too
        assert len(accounts) == 2
    async with request() as session:
        assert session.bind is connection
    await request.close()
    assert checked_out(engine) == 0  # back in the pool
    await gate.acquire()  # and the gate free again
    gate.release()


async def test_a_connection_not_to_be_had_fails_the_use_and_frees_the_gate() -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none", pool_size=1)
    gate = FairGate(1)
    try:
        for _ in range(2):  # the gate was left free: the second use fails too, not waits
            request = RequestSession(
                session_factory(reading_engine(engine)), shared=True, gate=gate
            )
            with pytest.raises(Exception) as failed:  # noqa: PT011 - the driver's own
                async with request():
                    pytest.fail("entered without a connection")
            assert database_unavailable(failed.value)
            await request.close()
        assert checked_out(engine) == 0
    finally:
        await engine.dispose()


async def test_a_live_connections_driver_is_had_without_a_greenlet_hop(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`raw.raw_connection` (the request's reads and its audit) takes the pooled connection
    a live connection holds as it is; only an invalidated one asks SQLAlchemy, which
    reconnects (a greenlet hop: what `get_raw_connection` costs)."""
    async with engine.connect() as connection:
        held = await connection.get_raw_connection()
        asked: list[AsyncConnection] = []
        get_raw_connection = AsyncConnection.get_raw_connection

        async def counted(self: AsyncConnection) -> object:
            asked.append(self)
            return await get_raw_connection(self)

        monkeypatch.setattr(AsyncConnection, "get_raw_connection", counted)
        assert await raw.raw_connection(connection) is held
        assert asked == []
        await connection.invalidate()
        await raw.raw_connection(connection)  # reconnected by SQLAlchemy
        assert asked == [connection]


async def test_statements_run_by_raw_are_told_to_listeners_added_at_any_time(
    engine: AsyncEngine,
) -> None:
    """raw asks SQLAlchemy's event flags before its dispatcher (`_listened`): a listener
    added to the engine after the request's connection was checked out is told too."""
    request = RequestSession(session_factory(reading_engine(engine)), shared=True)
    told: list[str] = []

    def listener(*args: object) -> None:
        told.append(str(args[2]))

    try:
        async with request() as session:
            await people.principal_for(session, "acc-0000001", NOW)
            assert told == []
            event.listen(engine.sync_engine, "before_cursor_execute", listener)
            await people.principal_for(session, "acc-0000001", NOW)
            assert len(told) == 1
            assert told[0].lstrip().upper().startswith("SELECT")
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listener)
        await request.close()


@pytest.fixture
def async_closes(monkeypatch: pytest.MonkeyPatch) -> list[AsyncConnection]:
    """The connections given back through `AsyncConnection.close` (its greenlet hop)."""
    closed: list[AsyncConnection] = []
    close = AsyncConnection.close

    async def counted(self: AsyncConnection) -> None:
        closed.append(self)
        await close(self)

    monkeypatch.setattr(AsyncConnection, "close", counted)
    return closed


async def test_a_live_connection_goes_back_to_the_pool_without_a_greenlet_hop(
    engine: AsyncEngine, async_closes: list[AsyncConnection]
) -> None:
    """Nothing to roll back (autocommit, the session's ORM transaction closed first): the
    check-in is done in place, the connection kept by the pool in autocommit's undoing
    (a writer then gets a transaction), and the next request has it again."""
    request = RequestSession(session_factory(reading_engine(engine)), shared=True)
    async with request.writing() as session:
        await session.scalars(select(m.Account.id).limit(1))  # an ORM read: a transaction
        driver = (await raw.raw_connection(session.bind)).driver_connection  # type: ignore[arg-type]
    await request.close()
    assert async_closes == []
    assert checked_out(engine) == 0
    assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    async with engine.connect() as writer:  # a writer's connection: not in autocommit
        raw_writer = await writer.get_raw_connection()
        assert raw_writer.driver_connection is driver
        assert raw_writer.dbapi_connection.autocommit is False  # type: ignore[union-attr]
    again = RequestSession(session_factory(reading_engine(engine)), shared=True)
    async with again() as session:
        assert (await raw.raw_connection(session.bind)).driver_connection is driver  # type: ignore[arg-type]
    await again.close()
    assert checked_out(engine) == 0


async def test_a_connection_with_something_to_undo_goes_back_through_sqlalchemy(
    database: Database, async_closes: list[AsyncConnection]
) -> None:
    """An invalidated connection (the database dropped it), or one the pool has no room
    for (an overflow connection, closed on its return), is given back by SQLAlchemy's own
    close, in its greenlet: no connection is lost or kept checked out."""
    engine = create_engine(database.url, pool_size=1, max_overflow=1)
    try:
        dropped = RequestSession(session_factory(reading_engine(engine)), shared=True)
        async with dropped() as session:
            await session.bind.invalidate()  # type: ignore[union-attr]
        await dropped.close()
        assert len(async_closes) == 1
        assert checked_out(engine) == 0
        first = RequestSession(session_factory(reading_engine(engine)), shared=True)
        second = RequestSession(session_factory(reading_engine(engine)), shared=True)
        for request in (first, second):
            async with request() as session:
                await people.principal_for(session, "acc-0000001", NOW)
        assert checked_out(engine) == 2
        await first.close()  # kept by the pool, in place
        assert len(async_closes) == 1
        await second.close()  # the pool is full: closed, by SQLAlchemy
        assert len(async_closes) == 2
        assert checked_out(engine) == 0
        assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_the_requests_connection_reads_in_autocommit_and_a_writer_after_it_does_not(
    database: Database,
) -> None:
    """The request's connection is the pool's own in autocommit (no isolation level option,
    so no engine listener that each statement would ask about); given back, on every path
    (in place, through SQLAlchemy, after `unshare`), the pool's reset takes it out of
    autocommit: a writer's transaction on the same connection is one, its rollback undoes
    its INSERT."""
    engine = create_engine(database.url, pool_size=1)
    try:
        reader = reading_engine(engine)
        for ending in ("close", "unshare", "orm"):
            request = RequestSession(session_factory(reader), shared=True)
            async with request.writing() as session:
                connection = session.bind
                assert isinstance(connection, AsyncConnection)
                sync = connection.sync_connection
                assert sync is not None
                assert not sync._has_events
                assert not sync.engine._has_events
                pooled = await raw.raw_connection(connection)
                assert pooled.dbapi_connection.autocommit  # type: ignore[union-attr]
                driver = pooled.driver_connection
                if ending == "orm":  # a transaction of SQLAlchemy's: closed through it
                    await session.scalars(select(m.Account.id).limit(1))
                else:
                    await people.principal_for(session, "acc-0000001", NOW)
            if ending == "unshare":
                await request.unshare()
            await request.close()
            assert checked_out(engine) == 0
            async with session_factory(engine)() as writer:
                held = await (await writer.connection()).get_raw_connection()
                assert held.driver_connection is driver
                assert held.dbapi_connection.autocommit is False  # type: ignore[union-attr]
                writer.add(m.AuditEvent(**dataclasses.asdict(_ENTRY)))
                await writer.flush()
                await writer.rollback()
            async with session_factory(engine)() as other:
                assert await other.scalar(select(func.count()).select_from(m.AuditEvent)) == 0
    finally:
        await engine.dispose()


async def test_a_connection_of_an_engine_not_made_to_read_is_checked_out_as_it_is(
    engine: AsyncEngine,
) -> None:
    """`autocommit_connection` of an engine that is not a `reading_engine`: its own
    `connect()`, its own isolation (here a transaction's)."""
    connection = await autocommit_connection(engine)
    try:
        assert (await connection.get_raw_connection()).dbapi_connection.autocommit is False  # type: ignore[union-attr]
    finally:
        await connection.close()


class _AccountIds(SessionLoader[str, str]):
    async def fetch(self, session: AsyncSession, keys: Sequence[str]) -> dict[str, str]:
        found = await session.scalars(select(m.Account.id).where(m.Account.id.in_(keys)))
        return {key: key for key in found}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_load_after_the_request_closed_gives_its_connection_back(
    backend: str, tmp_path: Path, dataset_dir: Path
) -> None:
    # A resolver still running when the request ends (beside a field whose error ended the
    # operation) may load after `close`: its batch reads on a session of its own, and that
    # session's connection goes back to the pool, not to the garbage collector.
    database = await make_database(backend, tmp_path, dataset_dir)
    engine = create_engine(database.url, pool_size=2)
    try:
        gate = FairGate(1)
        request = RequestSession(session_factory(reading_engine(engine)), shared=True, gate=gate)
        loader = _AccountIds(request)
        assert await loader.load("acc-0000001") == "acc-0000001"
        await request.close()
        assert checked_out(engine) == 0
        assert await loader.load("acc-0000002") == "acc-0000002"  # after the close
        assert checked_out(engine) == 0  # nobody closes the request again
        await gate.acquire()  # the gate free
        gate.release()
    finally:
        await engine.dispose()
        if database.drop:
            await database.drop()
