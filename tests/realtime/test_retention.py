"""Outbox retention: pruning deletes published events older than the retention, in batches,
keeps unpublished and recent ones, records the highest seq pruned in the same transaction,
and does nothing more when run again, from the CLI, or on two instances at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from domain.events import EventKind
from persistence import models as m
from persistence.db import create_engine, session_factory
from persistence.outbox import OutboxRepository
from persistence.outbox_retention import Pruned, prune, pruned_through
from runtime.config import Settings
from runtime.realtime.retention import prune_outbox
from runtime.realtime.settings import RealtimeSettings
from runtime.services import build_services
from tests.conftest import BACKENDS, Database, make_database
from tests.realtime.harness import run_cli

OLD = timedelta(hours=100)  # beyond the default retention (72 hours)
RECENT = timedelta(hours=1)
RETENTION = timedelta(hours=72)

# seq: (age, published). Seqs have gaps, as rolled-back writes leave on PostgreSQL; 12 is
# old but unpublished (the broker has yet to take it); 20 and 21 are within the retention.
ROWS = {
    10: (OLD, True),
    11: (OLD, True),
    12: (OLD, False),
    15: (OLD, True),
    20: (RECENT, True),
    21: (RECENT, False),
}
KEPT = [12, 20, 21]
THROUGH = 15


@pytest.fixture(params=BACKENDS)
async def outbox_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database with only the outbox rows of ROWS (no demo data: none is needed)."""
    database = await make_database(request.param, tmp_path, None)
    now = datetime.now(UTC)
    engine = create_engine(database.url)
    try:
        async with session_factory(engine)() as session:
            for seq, (age, published) in ROWS.items():
                session.add(
                    m.OutboxEvent(
                        seq=seq,
                        kind=EventKind.MESSAGE_RECEIVED.value,
                        patient_id="pat-1",
                        account_id=None,
                        object_id=f"obj-{seq}",
                        payload={},
                        created_at=now - age,
                        published_at=now - age + timedelta(seconds=1) if published else None,
                    )
                )
            if database.backend == "postgres":  # explicit seqs leave the sequence behind
                await session.execute(
                    text("SELECT setval(pg_get_serial_sequence('outbox_events', 'seq'), :top)"),
                    {"top": max(ROWS)},
                )
            await session.commit()
    finally:
        await engine.dispose()
    yield database
    if database.drop:
        await database.drop()


async def _state(url: str) -> tuple[list[int], int, datetime | None]:
    """(the seqs left, the watermark, when it was last raised)."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            seqs = list(
                await session.scalars(select(m.OutboxEvent.seq).order_by(m.OutboxEvent.seq))
            )
            row = await session.get(m.OutboxRetention, 1)
            assert row is not None
            assert row.pruned_through == await pruned_through(session)
            return seqs, row.pruned_through, row.pruned_at
    finally:
        await engine.dispose()


async def _prune(url: str, batch: int = 2) -> Pruned:
    now = datetime.now(UTC)
    engine = create_engine(url)
    try:
        return await prune(session_factory(engine), now - RETENTION, now, batch)
    finally:
        await engine.dispose()


async def test_a_migrated_database_has_pruned_nothing(outbox_db: Database) -> None:
    seqs, through, pruned_at = await _state(outbox_db.url)
    assert seqs == sorted(ROWS)
    assert (through, pruned_at) == (0, None)


async def test_pruning_deletes_old_published_events_and_records_the_highest_seq(
    outbox_db: Database,
) -> None:
    before = datetime.now(UTC)
    assert await _prune(outbox_db.url, batch=2) == Pruned(events=3, through=THROUGH)
    seqs, through, pruned_at = await _state(outbox_db.url)
    assert seqs == KEPT  # the unpublished old one, and the recent ones
    # The watermark is the highest seq pruned, not min(seq) - 1: 12 is still there.
    assert through == THROUGH
    assert pruned_at is not None
    assert pruned_at >= before - timedelta(seconds=1)


async def test_pruning_again_is_a_no_op(outbox_db: Database) -> None:
    await _prune(outbox_db.url)
    first = await _state(outbox_db.url)
    assert await _prune(outbox_db.url) == Pruned(events=0, through=THROUGH)
    assert await _state(outbox_db.url) == first  # not even pruned_at moves


async def test_pruning_walks_in_seq_order_and_stops_at_the_first_recent_event(
    outbox_db: Database,
) -> None:
    """Seq order is commit order, so what follows a recent event is recent too (up to the
    instances' clocks): the walk ends there instead of reading the rest of the table."""
    engine = create_engine(outbox_db.url)
    try:
        async with session_factory(engine)() as session:
            await session.execute(
                update(m.OutboxEvent)
                .where(m.OutboxEvent.seq == 11)
                .values(created_at=datetime.now(UTC) - RECENT)
            )
            await session.commit()
    finally:
        await engine.dispose()
    assert await _prune(outbox_db.url) == Pruned(events=1, through=10)
    assert (await _state(outbox_db.url))[:2] == ([11, 12, 15, 20, 21], 10)


async def test_the_watermark_never_goes_down(outbox_db: Database) -> None:
    await _prune(outbox_db.url)
    engine = create_engine(outbox_db.url)
    try:  # an old published event below the watermark (published late, say)
        async with session_factory(engine)() as session:
            await session.execute(
                update(m.OutboxEvent)
                .where(m.OutboxEvent.seq == 12)
                .values(published_at=datetime.now(UTC))
            )
            await session.commit()
    finally:
        await engine.dispose()
    assert await _prune(outbox_db.url) == Pruned(events=1, through=THROUGH)
    assert (await _state(outbox_db.url))[:2] == ([20, 21], THROUGH)


async def test_the_newest_event_stays_so_seqs_never_go_back(outbox_db: Database) -> None:
    """SQLite gives a new row the highest seq + 1: an emptied outbox would hand out seqs
    that clients have already seen."""
    engine = create_engine(outbox_db.url)
    try:
        async with session_factory(engine)() as session:
            old = datetime.now(UTC) - OLD
            await session.execute(update(m.OutboxEvent).values(created_at=old, published_at=old))
            await session.commit()
        assert await _prune(outbox_db.url) == Pruned(events=5, through=20)
        async with session_factory(engine)() as session:
            event = OutboxRepository(session).record(
                EventKind.MESSAGE_RECEIVED, object_id="new", now=datetime.now(UTC)
            )
            await session.commit()
    finally:
        await engine.dispose()
    assert event.seq > max(ROWS)
    assert (await _state(outbox_db.url))[:2] == ([21, event.seq], 20)


async def test_two_instances_pruning_at_once_delete_each_event_once(outbox_db: Database) -> None:
    results = await asyncio.gather(*(_prune(outbox_db.url, batch=1) for _ in range(3)))
    assert sum(r.events for r in results) == 3
    assert max(r.through for r in results) == THROUGH
    assert (await _state(outbox_db.url))[:2] == (KEPT, THROUGH)


async def test_the_cli_command_prunes_once(outbox_db: Database) -> None:
    out = await run_cli("--database-url", outbox_db.url, "prune-outbox")
    assert f"pruned 3 outbox event(s); pruned through seq {THROUGH}" in out
    assert (await _state(outbox_db.url))[:2] == (KEPT, THROUGH)
    out = await run_cli("--database-url", outbox_db.url, "prune-outbox")
    assert f"pruned 0 outbox event(s); pruned through seq {THROUGH}" in out


async def test_a_retention_of_zero_keeps_everything(outbox_db: Database) -> None:
    settings = replace(
        Settings(database_url=outbox_db.url), realtime=RealtimeSettings(retention=None)
    )
    services = build_services(settings)
    try:
        assert await prune_outbox(services, datetime.now(UTC) + timedelta(days=365)) is None
    finally:
        await services.engine.dispose()
    assert (await _state(outbox_db.url))[:2] == (sorted(ROWS), 0)


def test_the_retention_settings() -> None:
    default = RealtimeSettings.from_env({})
    assert (default.retention, default.prune_seconds) == (timedelta(hours=72), 3600)
    assert RealtimeSettings.from_env({"REALTIME_RETENTION_HOURS": "0"}).retention is None
    half_day = RealtimeSettings.from_env({"REALTIME_RETENTION_HOURS": "12.5"}).retention
    assert half_day == timedelta(hours=12.5)
    assert RealtimeSettings.from_env({"REALTIME_PRUNE_INTERVAL_SECONDS": "0"}).prune_seconds == 0
    for name in ("REALTIME_RETENTION_HOURS", "REALTIME_PRUNE_INTERVAL_SECONDS"):
        for bad in ("-1", "three days", "", "nan", "inf"):
            with pytest.raises(ValueError, match=f"{name} must be a number") as refused:
                RealtimeSettings.from_env({name: bad})
            assert repr(bad) in str(refused.value)
