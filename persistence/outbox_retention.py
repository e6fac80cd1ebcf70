"""Outbox retention: published events older than the retention are deleted, and the highest
seq deleted (the pruned-through watermark, `outbox_retention`) is raised in the same
transaction, so a subscriber resuming from below it is told its events are gone instead of
being handed a silent gap.

Pruning walks the outbox in seq order, which is commit order and so, up to the clocks of
the instances, creation order: it stops at the first row younger than the cutoff, and every
batch reads a short range of the primary key, however large the young part of the table
is. Unpublished rows are never deleted, however old (the broker has yet to see them), nor
is the newest row (its seq is where SQLite's next one starts).
The watermark is not min(seq): seqs have gaps (a rolled-back write consumes one on
PostgreSQL), and unpublished rows below it stay.

Pruners take turns on the watermark row (a row lock on PostgreSQL, the write lock on
SQLite), one short transaction per batch: running it again, or on several instances at
once, deletes nothing twice and never lowers the watermark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence import models as m

E = m.OutboxEvent
R = m.OutboxRetention
ROW = 1  # the one row of outbox_retention
PRUNE_BATCH = 1000


@dataclass(frozen=True)
class Pruned:
    events: int  # deleted by this run
    through: int  # the watermark afterwards: events at or below it may be gone


async def pruned_through(session: AsyncSession) -> int:
    """The highest seq pruned so far (0: none). Resuming after a seq below it may miss events."""
    return int(await session.scalar(select(R.pruned_through).where(R.id == ROW)) or 0)


async def _take_watermark(session: AsyncSession) -> int:
    """The watermark, held until the transaction ends: pruners take turns."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            pg_insert(R).values(id=ROW, pruned_through=0).on_conflict_do_nothing()
        )
        stmt = select(R.pruned_through).where(R.id == ROW).with_for_update()
        return int(await session.scalar(stmt) or 0)
    # SQLite: a write first takes the database's write lock before anything is read.
    await session.execute(
        sqlite_insert(R).values(id=ROW, pruned_through=0).on_conflict_do_nothing()
    )
    await session.execute(update(R).where(R.id == ROW).values(pruned_through=R.pruned_through))
    return await pruned_through(session)


async def _prune_batch(
    session: AsyncSession, cutoff: datetime, now: datetime, after: int, batch: int
) -> tuple[int, int, int | None]:
    """One batch, in the caller's transaction: (deleted, watermark, where the next batch
    starts; None when the walk reached rows younger than the cutoff or the end)."""
    watermark = await _take_watermark(session)
    # The newest event always stays: SQLite hands out max(seq) + 1, and an emptied table
    # would give seqs again that clients have seen.
    newest = select(func.max(E.seq)).scalar_subquery()
    stmt = (
        select(E.seq, E.created_at, E.published_at)
        .where(E.seq > after, E.seq < newest)
        .order_by(E.seq)
    )
    rows = (await session.execute(stmt.limit(batch))).all()
    doomed: list[int] = []
    young = False
    for seq, created_at, published_at in rows:
        if created_at >= cutoff:
            young = True  # rows after it are as young (seq order is commit order): done
            break
        if published_at is not None:
            doomed.append(seq)
    if doomed:
        await session.execute(delete(E).where(E.seq.in_(doomed)))
        if doomed[-1] > watermark:
            watermark = doomed[-1]
            await session.execute(
                update(R).where(R.id == ROW).values(pruned_through=watermark, pruned_at=now)
            )
    more = not young and len(rows) == batch
    return len(doomed), watermark, int(rows[-1].seq) if more else None


async def prune(
    sessions: async_sessionmaker[AsyncSession],
    cutoff: datetime,
    now: datetime,
    batch: int = PRUNE_BATCH,
) -> Pruned:
    """Delete published events created before `cutoff`, `batch` at a time, each batch in
    its own transaction with the watermark it raises."""
    deleted, after = 0, 0
    while True:
        async with sessions() as session, session.begin():
            count, watermark, next_after = await _prune_batch(session, cutoff, now, after, batch)
        deleted += count
        if next_after is None:
            return Pruned(deleted, watermark)
        after = next_after
