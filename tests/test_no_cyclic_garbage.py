"""What every subscription and every event written goes through leaves nothing to the
garbage collector: freed by reference counting when done, not when the young generation
is next collected (50,000 allocations apart in the server, portal/app.py), meanwhile
growing the heap of a burst of subscriptions or writes (docs/realtime.md, idle memory,
sixth step). On both backends.

A session `persistence.raw.rows` ran on, in a transaction and in autocommit: `rows` keeps
the session's connection in `Session.info` while its transaction lasts; that record used
to hold the transaction itself, which holds the session: a cycle, so every such session,
its connection's objects and its statements' parameters (some 45 objects) waited for the
collector."""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Integer, bindparam, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.access import AgePolicy, Principal, access_patient
from domain.events import EventKind
from domain.scopes import RecordArea
from persistence import devices, notifications, outbox_feed, raw
from persistence.db import create_engine, reading_engine, session_factory
from tests.conftest import NOW, make_database

ONE = select(literal(1, Integer)).where(bindparam("one", type_=Integer) == 1)


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    database = await make_database(request.param, tmp_path, None)
    engine = create_engine(database.url)
    yield engine
    await engine.dispose()
    if database.drop:
        await database.drop()


@pytest.fixture
def no_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("no_collector")
async def test_a_session_rows_ran_on_is_freed_when_it_closes(engine: AsyncEngine) -> None:
    for factory in (session_factory(engine), session_factory(reading_engine(engine))):
        async with factory() as session:  # the statement compiled and prepared once
            assert [tuple(row) for row in await raw.rows(session, ONE, {"one": 1})] == [(1,)]
        async with factory() as session:
            assert [tuple(row) for row in await raw.rows(session, ONE, {"one": 1})] == [(1,)]
            assert raw._HELD in session.sync_session.info  # the path under test was taken
            freed = weakref.ref(session.sync_session)
        del session
        assert freed() is None


@pytest.mark.usefixtures("no_collector")
async def test_a_sessions_next_transaction_gets_its_own_connection_record(
    engine: AsyncEngine,
) -> None:
    async with session_factory(engine)() as session:
        await raw.rows(session, ONE, {"one": 1})
        first = session.sync_session.info[raw._HELD]
        await session.commit()
        await raw.rows(session, ONE, {"one": 1})
        assert session.sync_session.info[raw._HELD] is not first


@pytest.mark.usefixtures("no_collector")
async def test_an_events_notification_and_a_resumes_reads_leave_no_garbage(
    engine: AsyncEngine,
) -> None:
    """Each statement built per call (an IN list's parameters, their annotated copies) left
    some 10-40 cyclic objects behind: they are built once now."""
    own = access_patient(
        Principal("acc-1", NOW, "pat-1"), "pat-1", RecordArea.MESSAGES, AgePolicy()
    )

    async def reads() -> None:
        async with session_factory(engine)() as session:
            accounts = ["acc-1", "acc-2"]
            assert await notifications.channels_by_account(session, accounts, "MESSAGE") == {}
            assert await notifications.contacts(session, accounts) == {}
            assert await devices.devices_by_account(session, accounts) == {}
            kind = EventKind.MESSAGE_RECEIVED
            missed = await outbox_feed.missed_for_patients(
                session, [own], RecordArea.MESSAGES, kind, 0, 10
            )
            assert missed == []

    await reads()  # compiled and cached once
    gc.collect()
    await reads()
    assert gc.collect() == 0
