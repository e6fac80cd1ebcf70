"""The read path's statements run by asyncpg itself (persistence/raw.py) answer what they
answered through SQLAlchemy, value for value and type for type, over the seeded data; and
a connection PostgreSQL drops, a failing statement and a cancelled one are handled as
SQLAlchemy handles them. PostgreSQL only (SQLite: tests/test_raw_rows_sqlite.py): skipped
without TEST_DATABASE_URL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Integer, cast, func, literal, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain import access
from domain.access import AccessDenied, AgePolicy, PatientGrant, Principal
from domain.paging import Page, PageOf
from domain.scopes import RecordArea
from persistence import models as m
from persistence import raw
from persistence.db import create_engine, database_unavailable, reading_engine, session_factory
from persistence.models import new_id
from persistence.queries import appointments, billing, messages, people, results
from persistence.sessions import NewSession, start_session
from tests.conftest import NOW, Database, make_database

POLICY = AgePolicy()


@pytest.fixture(scope="module")
async def database(
    tmp_path_factory: pytest.TempPathFactory, dataset_dir: Path
) -> AsyncIterator[Database]:
    """A seeded PostgreSQL database of this module's own (it starts sessions)."""
    db = await make_database("postgres", tmp_path_factory.mktemp("raw"), dataset_dir)
    yield db
    if db.drop:
        await db.drop()


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url)
    yield engine
    await engine.dispose()


@dataclass(eq=False)  # hashable: asyncpg keeps its loggers in a set
class Logged:
    """The statements asyncpg ran by `Connection.fetch` (the raw path; SQLAlchemy's own
    run prepared statements, which asyncpg does not tell its query loggers)."""

    queries: list[str]

    def __call__(self, record: Any) -> None:
        self.queries.append(record.query)


async def driver_of(session: AsyncSession) -> Any:
    return (await (await session.connection()).get_raw_connection()).driver_connection


@contextmanager
def raw_path(enabled: bool) -> Iterator[None]:
    before, raw.ENABLED = raw.ENABLED, enabled
    try:
        yield
    finally:
        raw.ENABLED = before


def typed(value: Any) -> Any:
    """`value` with the type of every leaf beside it: equal only if values and types are."""
    if isinstance(value, PageOf):
        return ("PageOf", typed(value.rows), value.has_next)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # the NamedTuple rows
        return (type(value).__name__, [(f, typed(getattr(value, f))) for f in value._fields])
    if is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            [(f.name, typed(getattr(value, f.name))) for f in fields(value)],
        )
    if isinstance(value, dict):
        return ("dict", sorted((repr(k), typed(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(v) for v in value])
    if isinstance(value, frozenset | set):
        return ("set", sorted(repr(typed(v)) for v in value))
    if isinstance(value, datetime):  # aware or naive, and in which zone
        return ("datetime", value, value.utcoffset())
    return (type(value).__name__, value)


def grants_of(principal: Principal, area: RecordArea) -> list[PatientGrant]:
    found = []
    for context in access.patient_contexts(principal, POLICY):
        try:
            found.append(access.access_patient(principal, context.patient_id, area, POLICY))
        except AccessDenied:
            continue
    return found


Collect = Callable[[Any], None]


async def everything(session: AsyncSession, account_id: str, session_id: str | None) -> Any:
    """What each converted read answers for one account, in one structure."""
    out: list[Any] = []
    principal_only = await people.principal_for(session, account_id, NOW)
    out.append(principal_only)
    for with_patients in (False, True):
        found = await people.principal_in_session(
            session, account_id, session_id, NOW, with_patients=with_patients
        )
        out.append(found)
    principal, _ = principal_only
    if principal is None:
        return out
    demographics = [
        access.access_demographics(principal, c.patient_id, POLICY)
        for c in access.patient_contexts(principal, POLICY)
    ]
    out.append(await people.patients(session, demographics))
    out.append(await people.accounts_by_id(session, [account_id, "acc-0000001", "acc-none"]))

    grants = grants_of(principal, RecordArea.APPOINTMENTS)
    for when in ("UPCOMING", "PAST"):
        joined = appointments.ProvidersAndDepartments()
        pages = await appointments.appointment_pages(
            session, grants, Page(3, None, when), NOW, joined
        )
        out += [pages, joined.providers, joined.departments]
        for page in pages.values():
            if page.has_next:  # the next page, after a cursor
                last = page.rows[-1]
                after = Page(3, (last.starts_at, last.id), when)
                out.append(await appointments.appointment_pages(session, grants, after, NOW))
        out.append(await people.providers_by_id(session, list(joined.providers)))
        out.append(await people.departments_by_id(session, list(joined.departments)))

    grants = grants_of(principal, RecordArea.RESULTS)
    result_ids: list[str] = []
    for kind in (None, "lab"):
        rows: list[Any] = []
        pages = await results.result_pages(session, grants, Page(5, None, kind), rows.append)
        out += [pages, [results.component_of(r) for r in rows]]
        # Collected in the pages' own loop: each result read has the components its rows
        # give, in order, an empty list for none.
        collected = results.components()
        again = await results.result_pages(
            session, grants, Page(5, None, kind), with_components=collected
        )
        by_result: dict[str, list[Any]] = {r[0]: [] for r in rows}
        for r in rows:
            if (component := results.component_of(r)) is not None:
                by_result[r[0]].append(component)
        assert again == pages
        assert collected.of == by_result
        out.append(collected.of)
        result_ids += [r.id for page in pages.values() for r in page.rows]
    out.append(await results.components_of(session, grants, result_ids))
    out.append(sorted(await results.hold_preferences(session, grants)))

    grants = grants_of(principal, RecordArea.BILLING)
    statement_ids: list[str] = []
    for status in (None, "open"):
        rows = []
        pages = await billing.statement_pages(session, grants, Page(4, None, status), rows.append)
        out += [pages, [billing.line_of(r) for r in rows]]
        statement_ids += [s.id for p in pages.values() for s in p.rows]
    out.append(await billing.line_items(session, grants, statement_ids))
    out.append(await billing.open_statement_totals(session, grants))

    grants = grants_of(principal, RecordArea.MESSAGES)
    thread_ids: list[str] = []
    if not grants:  # reads of messages need a reader
        return out
    for asked in (
        Page(5),
        Page(5, None, messages.UNREAD),
        messages.ThreadPage(5, None, None, 2),
        messages.ThreadPage(5, None, messages.UNREAD, 1),
    ):
        rows = []
        pages = await messages.thread_pages(session, grants, asked, rows.append)
        out += [pages, [(messages.read_through_of(r), messages.message_of(r)) for r in rows]]
        thread_ids += [t.id for p in pages.values() for t in p.rows]
    out.append(await messages.message_pages(session, grants, thread_ids, Page(2)))
    out.append(await messages.unread_by_thread(session, grants, thread_ids))
    out.append(await messages.unread_by_patient(session, grants))
    return out


async def accounts_with_sessions(engine: AsyncEngine) -> list[tuple[str, str | None]]:
    sessions = session_factory(engine)
    async with sessions() as session:
        ids = list((await session.scalars(select(m.Account.id).order_by(m.Account.id))).all())
    pairs: list[tuple[str, str | None]] = []
    for index, account_id in enumerate(ids):
        if index % 2:  # half of them by a token of a live session, half without one
            session_id = new_id("ses")
            new = NewSession(account_id, session_id, "test", None, None)
            await start_session(sessions, new, NOW, timedelta(days=1))
            pairs.append((account_id, session_id))
        else:
            pairs.append((account_id, None))
    return pairs


async def test_every_converted_read_answers_as_through_sqlalchemy(engine: AsyncEngine) -> None:
    accounts = await accounts_with_sessions(engine)
    sessions = session_factory(reading_engine(engine))  # in autocommit, as requests read
    logged = Logged([])
    answers: dict[bool, list[Any]] = {}
    for enabled in (True, False):
        with raw_path(enabled):
            async with sessions() as session:
                driver = await driver_of(session)
                driver.add_query_logger(logged)
                answers[enabled] = [await everything(session, *pair) for pair in accounts]
                await asyncio.sleep(0)  # asyncpg tells its loggers soon after a statement
                driver.remove_query_logger(logged)
        ran_raw = len(logged.queries)
        logged.queries.clear()
        if enabled:
            assert ran_raw >= 20 * len(accounts)  # every read went by the driver
        else:
            assert ran_raw == 0
    with_rows = [a for a in answers[False] if len(a) > 3]
    assert len(with_rows) > len(accounts) // 2  # most accounts hold records to compare
    assert typed(answers[True]) == typed(answers[False])


async def test_in_a_transaction_sqlalchemy_runs_them(engine: AsyncEngine) -> None:
    """A session that is not in autocommit (a unit of work) keeps SQLAlchemy's own path:
    its transaction begins at the first statement, as before."""
    sessions = session_factory(engine)
    logged = Logged([])
    async with sessions() as session:
        driver = await driver_of(session)
        driver.add_query_logger(logged)
        found = await everything(session, "acc-0000001", None)
        await asyncio.sleep(0)
        driver.remove_query_logger(logged)
        assert session.in_transaction()
    assert found[0][0] is not None
    sent_raw = {c.sql for c in raw._COMPILED.values() if c is not None}
    assert sent_raw  # compiled by the test before
    assert not sent_raw & set(logged.queries)


async def backend_pid(session: AsyncSession) -> int:
    pid: int = (await driver_of(session)).get_server_pid()
    return pid


async def terminate(engine: AsyncEngine, *pids: int) -> None:
    """PostgreSQL drops these backends (from a connection of a pool of its own)."""
    admin = create_engine(engine.url.render_as_string(hide_password=False))
    async with admin.connect() as connection:
        for pid in pids:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await admin.dispose()


async def test_a_dropped_connection_is_invalidated_with_the_pools_older_ones(
    engine: AsyncEngine,
) -> None:
    """As through SQLAlchemy: the statement that meets the dropped connection fails as
    "database unavailable" (a typed 503 at the edge), and the pool's other connections of
    before are replaced at their next checkout, so the next request is served."""
    reading = reading_engine(engine)
    sessions = async_sessionmaker(reading, expire_on_commit=False)
    session = sessions()
    await people.principal_for(session, "acc-0000001", NOW)  # the raw path, warm
    pid = await backend_pid(session)
    other = sessions()  # a second connection meanwhile, back in the pool: dropped too
    await people.principal_for(other, "acc-0000001", NOW)
    other_pid = await backend_pid(other)
    await other.close()
    assert pid != other_pid
    await terminate(engine, pid, other_pid)
    await asyncio.sleep(0.2)  # the server's goodbye arrives

    with pytest.raises(sa_exc.DBAPIError) as failed:
        await people.principal_for(session, "acc-0000001", NOW)
    assert failed.value.connection_invalidated
    assert database_unavailable(failed.value)
    await session.rollback()
    await session.close()

    async with sessions() as again:  # not the other dropped connection: a new one
        principal, name = await people.principal_for(again, "acc-0000001", NOW)
        assert principal is not None
        assert name
        assert await backend_pid(again) not in (pid, other_pid)


async def test_a_failing_statement_raises_sqlalchemys_error(engine: AsyncEngine) -> None:
    """Typed as SQLAlchemy types it (the edge logs it and answers a generic error), and the
    connection stays usable."""
    sessions = session_factory(reading_engine(engine))
    wrong = select(cast(literal("not a number"), Integer))
    async with sessions() as session:
        with pytest.raises(sa_exc.DBAPIError) as failed:
            await raw.rows(session, wrong, {})
        assert not failed.value.connection_invalidated
        assert not database_unavailable(failed.value)
        await session.rollback()
        principal, _ = await people.principal_for(session, "acc-0000001", NOW)
        assert principal is not None


async def test_a_cancelled_statement_invalidates_its_connection(engine: AsyncEngine) -> None:
    """As SQLAlchemy does: what the connection was in the middle of is unknown."""
    sessions = session_factory(reading_engine(engine))
    slow = select(func.pg_sleep(literal(5)))
    async with sessions() as session:
        connection = await session.connection()
        running = asyncio.create_task(raw.rows(session, slow, {}))
        await asyncio.sleep(0.3)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        assert connection.invalidated
        await session.rollback()
        principal, _ = await people.principal_for(session, "acc-0000001", NOW)
        assert principal is not None


async def test_statements_are_told_to_cursor_listeners(engine: AsyncEngine) -> None:
    """Statement counts (the N+1 test, the benchmarks) see the statements asyncpg runs."""
    from sqlalchemy import event

    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        async with session_factory(reading_engine(engine))() as session:
            await people.principal_for(session, "acc-0000001", NOW)
            await people.principal_for(session, "acc-0000001", NOW)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)
    assert seen == [raw.compiled_sql(people.PRINCIPAL, engine.dialect)] * 2
