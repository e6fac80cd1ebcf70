"""The outbox side: only committed writes publish, in seq order, at once after the commit,
and again after a broker outage; seq order is commit order on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import SystemClock
from domain.events import EventKind
from domain.realtime import BusEvent, patient_channel
from domain.scopes import RecordArea
from persistence import models as m
from persistence import outbox_feed
from persistence.db import create_engine, session_factory
from persistence.notify import Notice, notify
from persistence.outbox import OutboxRepository
from runtime.config import Settings
from runtime.realtime.broker import Broker, Listener, RedisBroker
from runtime.realtime.publisher import OutboxPublisher
from tests.conftest import Database
from tests.realtime.conftest import StartServer, statements_sent
from tests.realtime.harness import (
    ACCOUNTS,
    Client,
    Family,
    free_port,
    provider_reply,
    thread_of,
)

NOTIFICATIONS = """subscription($afterSeq: ID) {
  notificationAdded(afterSeq: $afterSeq) { seq notification { title } }
}"""


async def _stage(session: AsyncSession, patient_id: str, object_id: str) -> list[m.OutboxEvent]:
    """A write's events, not flushed: APPOINTMENT_CHANGED and its notifications (titled
    `object_id`)."""
    now = datetime.now(UTC)
    event = OutboxRepository(session).record(
        EventKind.APPOINTMENT_CHANGED, object_id=object_id, patient_id=patient_id, now=now
    )
    notice = Notice("APPOINTMENT_CHANGED", RecordArea.APPOINTMENTS, object_id, "", object_id)
    await notify(session, patient_id, notice, now, Settings().ages)
    return [event, *(o for o in session.new if isinstance(o, m.OutboxEvent) and o is not event)]


async def _record(database_url: str, patient_id: str, object_id: str, *, commit: bool) -> None:
    """A write in the test process: an outbox event (and notifications), then commit or not."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            await _stage(session, patient_id, object_id)
            if commit:
                await session.commit()
            else:
                await session.rollback()
    finally:
        await engine.dispose()


async def test_a_rolled_back_write_publishes_nothing(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    server = await start_server()
    alex = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    op = await alex.subscribe(NOTIFICATIONS, after=await server.seq())
    thread, provider = await thread_of(live_db.url, people.alex)
    await server.post_event(provider_reply(thread, provider, "live"))
    await alex.data(op)  # the stream is live

    await _record(live_db.url, people.alex, "rolled back", commit=False)
    await _record(live_db.url, people.alex, "committed", commit=True)
    # Written by another process: the server's periodic drain publishes it.
    data = await alex.data(op)
    assert data["notificationAdded"]["notification"]["title"] == "committed"

    engine = create_engine(live_db.url)
    async with session_factory(engine)() as session:
        titles = (await session.scalars(select(m.Notification.title))).all()
        kept = (await session.scalars(select(m.OutboxEvent.object_id))).all()
    await engine.dispose()
    assert "rolled back" not in titles
    assert "rolled back" not in kept


NOTES = """subscription($afterSeq: ID) {
  notificationAdded(afterSeq: $afterSeq) { seq notification { kind title } }
}"""


async def _note(client: Client, op: str) -> tuple[int, str]:
    event = (await client.data(op))["notificationAdded"]
    return int(event["seq"]), str(event["notification"]["title"])


async def test_a_write_rolled_back_after_flushing_its_events_publishes_nothing(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    """The events were flushed (their seqs taken, on PostgreSQL the writers' lock held), then
    the write rolled back: none is published, a write the server makes meanwhile commits
    after it and is delivered, and resuming across the unused seqs misses nothing."""
    server = await start_server()
    alex = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    op = await alex.subscribe(NOTES, after=await server.seq())
    thread, provider = await thread_of(live_db.url, people.alex)
    await server.post_event(provider_reply(thread, provider, "primer"))
    primer, _title = await _note(alex, op)

    engine = create_engine(live_db.url)  # disposed at the end: its connection stays open
    try:
        async with session_factory(engine)() as session:
            staged = await _stage(session, people.alex, "rolled back")
            assert len(staged) == 2  # the event and Alex's notification
            await asyncio.wait_for(session.flush(), 15)  # a lock the server kept: no end
            flushed = [event.seq for event in staged]
            assert all(seq > primer for seq in flushed)
            committed = asyncio.create_task(
                server.post_event(provider_reply(thread, provider, "committed"))
            )
            if live_db.backend == "postgres":  # SQLite: the server's write waits as well
                done, _pending = await asyncio.wait({committed}, timeout=1.0)
                assert not done, "an outbox write committed past an open outbox flush"
            await session.rollback()
        await asyncio.wait_for(committed, 15)  # a lock outliving the rollback would hang it
        seq, title = await _note(alex, op)
        assert title != "rolled back"
        if live_db.backend == "postgres":
            assert seq > max(flushed)  # the rolled-back seqs stay unused: a gap
        async with session_factory(engine)() as session:
            kept = (await session.scalars(select(m.OutboxEvent.object_id))).all()
        assert "rolled back" not in kept
    finally:
        await engine.dispose()

    # Resuming across the gap, and after the committed event.
    across = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    resumed = await across.subscribe(NOTES, {"afterSeq": str(primer)})
    assert await _note(across, resumed) == (seq, title)
    await server.post_event(provider_reply(thread, provider, "later"))
    later = await _note(alex, op)
    assert await _note(across, resumed) == later
    after = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    assert await _note(after, await after.subscribe(NOTES, {"afterSeq": str(seq)})) == later


async def _take(listener: Listener, count: int) -> list[BusEvent]:
    taken: list[BusEvent] = []
    while len(taken) < count:
        item = await listener.get(5.0)
        assert item is not None, f"only {len(taken)} of {count} events arrived"
        if isinstance(item, BusEvent):
            taken.append(item)
    return taken


async def test_the_publisher_publishes_committed_events_in_order_right_after_commit(
    live_db: Database, people: Family
) -> None:
    engine = create_engine(live_db.url)
    broker = Broker()
    # A drain interval far longer than the test: only the commit hook can explain delivery.
    publisher = OutboxPublisher(session_factory(engine), broker, SystemClock(), interval=3600)
    publisher.start(engine)
    try:
        async with broker.listen([patient_channel(people.alex)]) as listener:
            await asyncio.sleep(0)  # let the publisher's first drain find nothing
            async with session_factory(engine)() as session:
                outbox = OutboxRepository(session)
                now = datetime.now(UTC)
                for n in range(3):
                    outbox.record(
                        EventKind.MESSAGE_RECEIVED,
                        object_id=f"msg-{n}",
                        patient_id=people.alex,
                        now=now,
                    )
                await session.commit()
            events = await _take(listener, 3)
    finally:
        await publisher.close(engine)  # after the drain in progress has marked them
    assert [e.object_id for e in events] == ["msg-0", "msg-1", "msg-2"]
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    async with session_factory(engine)() as session:
        unpublished = await session.scalars(
            select(m.OutboxEvent).where(m.OutboxEvent.published_at.is_(None))
        )
        assert unpublished.all() == []
    await engine.dispose()


async def test_after_a_commit_the_drain_publishes_without_looking_first(
    live_db: Database, people: Family
) -> None:
    """A commit of this process that wrote events wakes the publisher: it takes the drain
    lock and reads the events at once (no statement to ask whether there are any), and
    each event carries when its commit was learnt of (for the commit-to-send metric)."""
    engine = create_engine(live_db.url)
    broker = Broker()
    publisher = OutboxPublisher(session_factory(engine), broker, SystemClock(), interval=3600)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(" ".join(statement.split()))

    publisher.start(engine)
    try:
        async with broker.listen([patient_channel(people.alex)]) as listener:
            await asyncio.sleep(0)
            async with session_factory(engine)() as session:
                OutboxRepository(session).record(
                    EventKind.MESSAGE_RECEIVED,
                    object_id="msg-stamped",
                    patient_id=people.alex,
                    now=datetime.now(UTC),
                )
                before = time.perf_counter()
                event.listen(engine.sync_engine, "before_cursor_execute", seen)
                await session.commit()
            [published] = await _take(listener, 1)
            received = time.perf_counter()
    finally:
        await publisher.close(engine)
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
        await engine.dispose()
    assert published.object_id == "msg-stamped"
    assert before <= published.committed <= received
    asking = [s for s in statements if "published_at IS NULL" in s and "LIMIT" in s]
    assert len(asking) == 1, statements  # the events read, not first whether there are any
    assert "ORDER BY" in asking[0]


async def test_events_stay_in_the_outbox_while_the_broker_is_down(
    live_db: Database, people: Family, redis_url: str
) -> None:
    engine = create_engine(live_db.url)
    sessions = session_factory(engine)
    async with sessions() as session:
        OutboxRepository(session).record(
            EventKind.MESSAGE_RECEIVED,
            object_id="msg-x",
            patient_id=people.alex,
            now=datetime.now(UTC),
        )
        await session.commit()

    down = RedisBroker(f"redis://127.0.0.1:{free_port()}/0", "test-down:")  # nothing listens
    with pytest.raises(Exception, match=r".") as refused:
        await OutboxPublisher(sessions, down, SystemClock(), 3600).drain()
    assert type(refused.value).__name__ == "BrokerUnavailable"
    await down.close()
    async with sessions() as session:
        row = await session.scalar(select(m.OutboxEvent).where(m.OutboxEvent.object_id == "msg-x"))
        assert row is not None
        assert row.published_at is None

    up = RedisBroker(redis_url, f"test-up-{free_port()}:")
    await up.start()
    try:
        async with up.listen([patient_channel(people.alex)]) as listener:
            await _until_live(up)
            assert await OutboxPublisher(sessions, up, SystemClock(), 3600).drain() == 1
            (event,) = await _take(listener, 1)
    finally:
        await up.close()
    assert event.object_id == "msg-x"
    async with sessions() as session:
        row = await session.scalar(select(m.OutboxEvent).where(m.OutboxEvent.object_id == "msg-x"))
        assert row is not None
        assert row.published_at is not None
    await engine.dispose()


async def _until_live(broker: RedisBroker) -> None:
    for _ in range(100):
        if broker.live:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("redis pub/sub did not connect")


async def test_outbox_writers_commit_in_seq_order(live_db: Database, people: Family) -> None:
    """Two concurrent writers: the second to insert waits for the first to commit, so a
    reader never sees seq N+1 committed while N may still commit."""
    if live_db.backend != "postgres":
        pytest.skip("SQLite has one writer at a time by design; the lock is PostgreSQL's")
    engine = create_engine(live_db.url)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    first = sessions()
    OutboxRepository(first).record(
        EventKind.MESSAGE_RECEIVED, object_id="first", patient_id=people.alex, now=now
    )
    await first.flush()  # seq taken, not committed

    async def second_writer() -> None:
        async with sessions() as second:
            OutboxRepository(second).record(
                EventKind.MESSAGE_RECEIVED, object_id="second", patient_id=people.alex, now=now
            )
            await second.commit()

    second = asyncio.create_task(second_writer())
    done, _pending = await asyncio.wait({second}, timeout=1.0)
    assert not done, "the second writer committed while the first was still open"
    await first.commit()
    await first.close()
    await asyncio.wait_for(second, 10)
    async with sessions() as session:
        rows = (await session.scalars(select(m.OutboxEvent).order_by(m.OutboxEvent.seq))).all()
    assert [r.object_id for r in rows] == ["first", "second"]
    await engine.dispose()


async def test_draining_an_empty_outbox_on_postgresql_is_one_statement_without_a_transaction(
    live_db: Database, people: Family
) -> None:
    """The publisher looks every `drain_seconds` (0.5 s) in every instance: an idle look is
    one SELECT on an autocommit connection, not BEGIN, SELECT and ROLLBACK."""
    if not live_db.url.startswith("postgresql"):
        pytest.skip("statements as PostgreSQL counts them: PostgreSQL only")
    engine = create_engine(live_db.url)
    publisher = OutboxPublisher(session_factory(engine), Broker(), SystemClock(), 3600)
    try:
        with statements_sent(engine) as sent:
            assert await publisher.drain() == 0  # the seeded events were never published
            sent.clear()
            assert await publisher.drain() == 0
            assert len(sent) == 1, sent
            assert sent[0].lstrip().upper().startswith("SELECT")
            async with session_factory(engine)() as session:
                await _stage(session, people.alex, "appt-probe")
                await session.commit()
            sent.clear()
            assert await publisher.drain() >= 1  # something waits: the drain's transaction
            assert any(q.upper().startswith("BEGIN") for q in sent), sent
    finally:
        await engine.dispose()


async def test_an_idle_outbox_is_looked_at_less_and_less_often_and_a_commit_resets_it(
    live_db: Database, people: Family, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the timer, each look that finds nothing doubles the wait (up to the idle interval),
    so an instance at rest does not ask the database twice a second; an event written by
    another process is still published within the idle interval."""
    looks: list[float] = []
    real = outbox_feed.has_unpublished

    async def counted(session: Any) -> bool:
        looks.append(asyncio.get_running_loop().time())
        return await real(session)

    monkeypatch.setattr(outbox_feed, "has_unpublished", counted)
    engine = create_engine(live_db.url)
    broker = Broker()
    publisher = OutboxPublisher(
        session_factory(engine), broker, SystemClock(), interval=0.05, idle_interval=0.4
    )
    await publisher.drain()  # what the seed left
    publisher.start(engine)
    try:
        await asyncio.sleep(1.6)
        # without the backoff: ~32 looks in 1.6 s; with it 0.05+0.1+0.2+0.4+0.4+0.4...: ~6
        assert 3 <= len(looks) <= 10, looks
        gaps = [b - a for a, b in pairwise(looks)]
        assert gaps[-1] >= 0.3, gaps
        async with broker.listen([patient_channel(people.alex)]) as listener:
            # written by "another process": an engine whose commits do not kick the publisher
            await _record(live_db.url, people.alex, "from elsewhere", commit=True)
            async with asyncio.timeout(2):
                (event, *_) = await _take(listener, 1)
        assert event.patient_id == people.alex
    finally:
        await publisher.close(engine)
        await engine.dispose()
