"""The outbox publisher: committed events go to the broker, in seq order, exactly as committed.

Woken by every commit that wrote outbox rows in this process (persistence/outbox_order.py)
and every `drain_seconds` anyway, it publishes what is unpublished, oldest first, and marks
it published in the same transaction. Drainers of all instances take turns (a database
lock), so the broker sees events in seq order. If the broker is down nothing is marked: the
events stay in the outbox and the next drain (with backoff) publishes them. A rolled-back
write left nothing in the outbox, so it never produces an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.clock import Clock
from persistence import outbox_feed, outbox_order
from persistence.db import reading_engine
from runtime.realtime.broker import Broker, BrokerUnavailable

log = logging.getLogger("runtime.realtime")


class OutboxPublisher:
    batch = 500

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker,
        clock: Clock,
        interval: float,
        idle_interval: float | None = None,
    ) -> None:
        self._sessions = sessions
        # The idle check's connection: autocommit on PostgreSQL (no BEGIN and ROLLBACK
        # around the one SELECT a drain of an empty outbox costs, every `interval` seconds).
        bind = sessions.kw.get("bind")
        self._probe = reading_engine(bind) if isinstance(bind, AsyncEngine) else None
        self._broker = broker
        self._clock = clock
        self._interval = interval
        # An outbox found empty on the timer is looked at less and less often, up to this:
        # a fleet at rest does not ask the database twice a second per instance.
        self._idle_interval = max(interval, idle_interval or interval)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._retry_at = 0.0
        self._backoff = 0.0
        self.published = 0
        self._committed = 0.0  # the first commit not drained yet (perf_counter), or 0

    def kick(self) -> None:
        """Ask for a drain soon (called inside commits: only schedules)."""
        if not self._committed:
            self._committed = time.perf_counter()
        self._wake.set()

    def start(self, engine: AsyncEngine) -> None:
        if self._task is None:
            outbox_order.on_commit(engine, self.kick)
            self._task = asyncio.create_task(self._run(), name="outbox-publisher")

    async def close(self, engine: AsyncEngine) -> None:
        """Stop after the drain in progress (a last one if asked for); cancel if it hangs."""
        outbox_order.on_commit(engine, None)
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        # If it hangs, wait_for cancels it: whatever it had not marked stays in the outbox.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, 5)

    _stopping = False

    async def _run(self) -> None:
        wait = self._interval
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            kicked = self._wake.is_set()
            self._wake.clear()
            idle_wait, wait = wait, self._interval
            if self._stopping or time.monotonic() < self._retry_at:
                continue  # the broker or database was down a moment ago: wait for the backoff
            try:
                published = await self.drain()
                self._backoff = 0.0
            except BrokerUnavailable as exc:
                self._failed(f"broker unavailable ({exc})")
                continue
            except Exception as exc:
                self._failed(f"drain failed ({type(exc).__name__})")
                log.debug("outbox drain failed", exc_info=True)
                continue
            if not kicked and not published:  # found empty on the timer: look later
                wait = min(idle_wait * 2, self._idle_interval)

    def _failed(self, why: str) -> None:
        if self._backoff == 0.0:
            log.warning("outbox events not published: %s; they stay in the outbox", why)
        self._backoff = min(max(self._backoff * 2, 0.25), 5.0)
        self._retry_at = time.monotonic() + self._backoff

    async def drain(self) -> int:
        """Publish every unpublished event, oldest first; returns how many."""
        if not self._broker.live:
            raise BrokerUnavailable("not connected")  # don't hold the drain lock to find out
        total = 0
        # The events of this drain were committed at the earliest at the first kick since
        # the last one (an event of another process, drained on the timer: from now on).
        kicked = bool(self._committed)
        committed, self._committed = self._committed or time.perf_counter(), 0.0
        if not kicked and self._probe is not None:
            # On the timer: look first on an autocommit connection (one statement), and open
            # the drain's transaction only when something waits.
            async with self._probe.connect() as connection:
                if not await outbox_feed.has_unpublished(connection):
                    return 0
            kicked = True  # no second look inside the transaction
        while True:
            async with self._sessions() as session, session.begin():
                # After a commit of this process that wrote events there is something to
                # publish (unless another instance did): no round trip to find out first.
                if not kicked and not await outbox_feed.has_unpublished(session):
                    return total
                kicked = False
                await outbox_feed.lock_drain(session)
                events = await outbox_feed.unpublished(session, self.batch)
                if not events:
                    return total  # another instance published them meanwhile
                events = [replace(event, committed=committed) for event in events]
                await self._broker.publish(events)  # raises: rolled back, nothing marked
                seqs = [event.seq for event in events]
                await outbox_feed.mark_published(session, seqs, self._clock.now())
            total += len(events)
            self.published += len(events)
            if len(events) < self.batch:
                return total
