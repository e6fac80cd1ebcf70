"""On SQLite the read path's statements run on the session's aiosqlite connection in one
handoff to its thread (persistence/raw.py): they answer what SQLAlchemy answered, value
for value and type for type (datetimes, numerics, booleans and JSON are stored as text and
numbers there: SQLAlchemy's result processors make them), in the session's transaction,
and SQLAlchemy keeps what it must."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, literal, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from loaders.base import RequestSession
from persistence import models as m
from persistence import raw
from persistence.db import create_engine, session_factory
from persistence.queries import messages, people
from tests.conftest import NOW, Database, make_database
from tests.test_raw_rows import accounts_with_sessions, everything, raw_path, typed


@pytest.fixture(scope="module")
async def database(tmp_path_factory: pytest.TempPathFactory, dataset_dir: Path) -> Database:
    return await make_database("sqlite", tmp_path_factory.mktemp("raw-sqlite"), dataset_dir)


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url)
    yield engine
    await engine.dispose()


@contextmanager
def told(engine: AsyncEngine) -> Iterator[list[tuple[str, bool]]]:
    """The statements cursor listeners are told: (SQL, whether the raw path ran it, which
    has no cursor)."""
    seen: list[tuple[str, bool]] = []

    def note(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        seen.append((statement, cursor is None))

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


async def test_every_converted_read_answers_as_through_sqlalchemy(engine: AsyncEngine) -> None:
    accounts = await accounts_with_sessions(engine)
    answers: dict[bool, list[Any]] = {}
    for enabled in (True, False):
        with raw_path(enabled), told(engine) as seen:
            async with session_factory(engine)() as session:
                answers[enabled] = [await everything(session, *pair) for pair in accounts]
        ran_raw = sum(1 for _, by_raw in seen if by_raw)
        if enabled:
            assert ran_raw == len(seen)  # every read went by the driver
            assert ran_raw >= 20 * len(accounts)
        else:
            assert ran_raw == 0
    with_rows = [a for a in answers[False] if len(a) > 3]
    assert len(with_rows) > len(accounts) // 2  # most accounts hold records to compare
    assert typed(answers[True]) == typed(answers[False])


async def test_in_a_request_sessions_read_transaction(engine: AsyncEngine) -> None:
    """The request's reads (one transaction, loaders.base.RequestSession) answer the same
    by the raw path, on the connection of that transaction."""
    accounts = (await accounts_with_sessions(engine))[:6]
    answers: dict[bool, list[Any]] = {}
    for enabled in (True, False):
        request = RequestSession(session_factory(engine), shared=True)
        with raw_path(enabled):
            async with request() as session:
                answers[enabled] = [await everything(session, *pair) for pair in accounts]
                raw_connection = await (await session.connection()).get_raw_connection()
                driver: Any = raw_connection.driver_connection
                assert driver.in_transaction  # the BEGIN of RequestSession, still open
        await request.close()
    assert typed(answers[True]) == typed(answers[False])


async def test_reads_see_the_sessions_own_writes_not_yet_committed(engine: AsyncEngine) -> None:
    """A unit of work reads on its own connection, inside its transaction: what it wrote
    and has not committed is seen, as through SQLAlchemy. Objects added and not flushed
    yet (a session that flushes before each statement) go through SQLAlchemy, which
    flushes them first."""
    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            update(m.Account).where(m.Account.id == "acc-0000001").values(display_name="Renamed")
        )
        with told(engine) as seen:
            _, name = await people.principal_for(session, "acc-0000001", NOW)
        assert name == "Renamed"
        assert [by_raw for _, by_raw in seen] == [True]
        await session.rollback()

    flushing = async_sessionmaker(engine, expire_on_commit=False)  # autoflush
    async with flushing() as session, session.begin():
        account = await session.get(m.Account, "acc-0000001")
        assert account is not None
        account.display_name = "Flushed first"
        with told(engine) as seen:
            _, name = await people.principal_for(session, "acc-0000001", NOW)
        assert name == "Flushed first"
        assert seen[-1] == (str(seen[-1][0]), False)  # SQLAlchemy ran the read, after the flush
        assert any(statement.startswith("UPDATE") for statement, _ in seen)
        await session.rollback()


async def test_lists_of_each_length(engine: AsyncEngine) -> None:
    """One-of lists are rendered per length (none, one, many) and answer as SQLAlchemy."""
    async with session_factory(engine)() as session:
        ids = [
            r[0] for r in await raw.rows(session, select(m.Account.id).order_by(m.Account.id), {})
        ]
        for size in (0, 1, 2, 7, 1, 0):
            asked = [*ids[:size], "acc-none"]
            with raw_path(True):
                fast = await people.accounts_by_id(session, asked)
            with raw_path(False):
                slow = await people.accounts_by_id(session, asked)
            assert typed(sorted(fast)) == typed(sorted(slow))
            assert len(fast) == size
        values = {"ids": ["a", "b", "c"]}
        assert raw.compiled_sql(people.ACCOUNTS, engine.dialect, {"ids": 3}) is not None
        with told(engine) as seen:
            await raw.rows(session, people.ACCOUNTS, values)
        assert seen == [(raw.compiled_sql(people.ACCOUNTS, engine.dialect, {"ids": 3}), True)]
        assert "?, ?, ?" in seen[0][0]


async def test_a_failing_statement_raises_sqlalchemys_error(engine: AsyncEngine) -> None:
    """Typed as SQLAlchemy types it, and the session goes on."""
    wrong = select(func.no_such_function(literal(1)))
    async with session_factory(engine)() as session:
        with pytest.raises(sa_exc.OperationalError):
            await raw.rows(session, wrong, {})
        await session.rollback()
        principal, _ = await people.principal_for(session, "acc-0000001", NOW)
        assert principal is not None


async def test_a_missing_parameter_is_sqlalchemys_error(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        with pytest.raises(sa_exc.StatementError):
            await raw.rows(session, people.PRINCIPAL, {})
        with pytest.raises(sa_exc.StatementError):
            await raw.rows(session, messages.UNREAD_BY_PATIENT, {})


async def test_statements_are_told_to_cursor_listeners(engine: AsyncEngine) -> None:
    """Statement counts (the N+1 test, the benchmarks) see the statements run by the raw
    path."""
    with told(engine) as seen:
        async with session_factory(engine)() as session:
            await people.principal_for(session, "acc-0000001", NOW)
            await people.principal_for(session, "acc-0000001", NOW)
    assert seen == [(raw.compiled_sql(people.PRINCIPAL, engine.dialect), True)] * 2


async def test_a_cancelled_statement_invalidates_its_connection(engine: AsyncEngine) -> None:
    """As SQLAlchemy does; the next use of the session has a new connection."""
    counter = select(literal(1).label("n")).cte("counter", recursive=True)
    counter = counter.union_all(select(counter.c.n + 1).where(counter.c.n < 2_000_000))
    slow = select(func.count()).select_from(counter)
    async with session_factory(engine)() as session:
        connection = await session.connection()
        running = asyncio.create_task(raw.rows(session, slow, {}))
        await asyncio.sleep(0.05)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        assert connection.invalidated
        await session.rollback()
        principal, _ = await people.principal_for(session, "acc-0000001", NOW)
        assert principal is not None
