"""The PHI access log: collected per request or event, written durably before the answer.

It also records actions on accounts (sign-in, passwords, two-step verification, settings):
those entries have no patient, and a patient's own access log never lists them.

Disclosures are written before the answer leaves: a request's in one statement on its own
connection (`AuditWriter.write`), subscription events' together (`write_together`).
The rest (the single sign-on callback's account action, an event skipped unsent) and what
could not be written go to `AuditWriter.submit` (no I/O); a background task writes whatever
is queued every `interval` seconds in one multi-row INSERT, and `close()` drains the queue
at shutdown, so a clean stop loses nothing. A failed batch is kept and retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from domain.access import PatientGrant
from persistence import models as m
from persistence import raw
from persistence.db import database_unavailable
from persistence.paging import Page, PageOf, SortKey, pages_per_parent
from persistence.queries.guard import own_patient_id

log = logging.getLogger(__name__)
# How long `write_together` holds a batch for the rest of a group while none of the group
# moves on (a stalled delivery must not hold the others' events back for long); normally
# the group is complete in a few ms. A group that keeps moving on (its deliveries executed
# one after the other on a busy machine) is held at most GATHER_LIMIT_SECONDS.
GATHER_SECONDS = 0.05
GATHER_LIMIT_SECONDS = 0.5
SessionSource = Callable[[], AbstractAsyncContextManager[AsyncSession]]


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    account_id: str
    actor_name: str
    patient_id: str | None  # None: an account-level action
    acting_as: str  # a Relationship; "anonymous" for an account action nobody signed in made
    action: str  # "read", "write"; "attempt": a refused account action; "refused": a read
    operation: str
    object_types: str  # of a refused read: the GraphQL path of the refused field
    request_id: str | None
    client_address: str | None
    area: str | None = None  # a refused read's RecordArea, reason and asked-for object id
    reason: str | None = None
    object_id: str | None = None


AUDIT_COLUMNS = [f.name for f in fields(AuditEntry)]
# SQLite: one executemany whatever the rows. The ORM's bulk INSERT would otherwise leave out
# NULLs and split the rows by which columns are set (a refused read has area/reason, a read
# has not): one more statement per request with a refusal.
INSERT_ROWS = insert(m.AuditEvent).execution_options(render_nulls=True)
# PostgreSQL: any number of rows in one statement (asyncpg's executemany would send one
# INSERT per row), built once, run by asyncpg itself (`$1`) without SQLAlchemy's statement
# machinery around it: the rows as one JSON array of objects (orjson writes the dataclasses
# in one C call), made rows again by `json_to_recordset`, in their order. One text parameter:
# one array a column (`unnest`) cost asyncpg's array encoder ~60 `collections.abc` checks a
# dashboard's two rows, and ~20 µs more CPU a write on either side (docs/performance.md,
# session 17). The text holds only our own column names; every value is in the parameter.
_COLUMN_TYPES = ", ".join(f"{c} {'timestamptz' if c == 'at' else 'text'}" for c in AUDIT_COLUMNS)
INSERT_JSON_RAW = (
    f"INSERT INTO audit_events ({', '.join(AUDIT_COLUMNS)})"  # noqa: S608
    f" SELECT {', '.join(AUDIT_COLUMNS)} FROM json_to_recordset($1::json) AS r({_COLUMN_TYPES})"
)


def rows_json(entries: Sequence[AuditEntry]) -> str:
    """`entries` as INSERT_JSON_RAW's parameter. A naive `at` is the local time asyncpg
    (and so the former statement) took it for: given its offset here, as JSON would
    otherwise leave it to the server's time zone."""
    if not all(e.at.utcoffset() is not None for e in entries):
        entries = [
            e if e.at.utcoffset() is not None else replace(e, at=e.at.astimezone()) for e in entries
        ]
    return orjson.dumps(entries).decode()


def _postgres_engine(sessions: SessionSource) -> AsyncEngine | None:
    """The PostgreSQL engine of a session factory (None: SQLite, or a request's session)."""
    bind = sessions.kw.get("bind") if isinstance(sessions, async_sessionmaker) else None
    if isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql":
        return bind
    return None


class Group(Protocol):
    """Callers handing their entries in one by one, e.g. the deliveries of one event to one
    viewer (runtime/realtime/sharing.py, `Gathering`)."""

    @property
    def left(self) -> int:
        """How many have handed theirs in (or dropped out) so far: it only grows."""

    def all_in(self) -> asyncio.Future[None] | None:
        """Done once all have; None: already so."""


class AuditWriter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], interval: float) -> None:
        self._sessions = sessions
        self._interval = interval
        self._queue: list[AuditEntry] = []
        self._task: asyncio.Task[None] | None = None
        self._flushing = asyncio.Lock()
        self._oldest: float | None = None  # monotonic time the oldest queued entry came
        self.last_lag = 0.0  # how long the oldest entry of the last written batch waited
        # `write_together`: the entries waiting for the next write, and its end.
        self._together: list[AuditEntry] = []
        self._together_groups: set[Group] = set()
        self._together_done: asyncio.Future[None] | None = None
        self._together_task: asyncio.Task[None] | None = None

    def submit(self, entries: Sequence[AuditEntry]) -> None:
        if entries and self._oldest is None:
            self._oldest = time.monotonic()
        self._queue.extend(entries)

    @property
    def lag(self) -> float:
        """Seconds the oldest entry not yet written has waited (0 when all are written)."""
        return 0.0 if self._oldest is None else time.monotonic() - self._oldest

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def write(self, entries: Sequence[AuditEntry], sessions: SessionSource) -> None:
        """Write `entries` now, in one statement, through `sessions` (a request's own
        connection): durable when this returns. Should that fail, they are queued for the
        background writer, which retries, and the failure is logged."""
        if not entries:
            return
        try:
            engine = _postgres_engine(sessions)
            if engine is not None:
                await _insert_raw(engine, entries)
                return
            async with sessions() as session:
                bind = session.get_bind()
                if bind.dialect.name == "postgresql":
                    # asyncpg itself on the session's connection: committed at once in the
                    # request's autocommit, else by the commit below, as the statement
                    # through the session would be, for a third of its CPU
                    if await _execute_raw(await raw.connection_of(session), entries):
                        return  # committed: the session's commit would be SQLAlchemy's no-op
                else:  # SQLite: executemany, local and inside one transaction
                    await session.execute(INSERT_ROWS, [asdict(e) for e in entries])
                await session.commit()
        except Exception:
            log.exception("audit write failed; %d entries queued for retry", len(entries))
            self.submit(entries)

    async def write_together(
        self,
        entries: Sequence[AuditEntry],
        sessions: SessionSource,
        gathered: Group | None = None,
    ) -> None:
        """`write`, shared by concurrent callers (group commit): entries handed in while a
        write runs go together in the next one. `gathered`: the batch is not written
        before the caller's group is all in (the others of the group, e.g. the deliveries
        of one event, have handed theirs in: one statement for them all), or none of the
        group has moved on for `GATHER_SECONDS` (`_gather`). Durable when this returns (or
        queued for retry, as `write`); a caller cancelled meanwhile still has its entries
        written."""
        if not entries:
            return
        if self._together_done is None:
            self._together_done = asyncio.get_running_loop().create_future()
        done = self._together_done
        self._together.extend(entries)
        if gathered is not None:
            self._together_groups.add(gathered)
        if self._together_task is None:
            self._together_task = asyncio.create_task(self._write_batches(sessions))
        await asyncio.shield(done)

    async def _gather(self) -> None:
        """Until the groups of the entries handed in are complete, or none of them has moved
        on for GATHER_SECONDS (a stalled delivery holds the others back no longer), and at
        most GATHER_LIMIT_SECONDS. Measured from the last move rather than from the first
        entry: on a busy machine 30 deliveries executed one after the other may take more
        than GATHER_SECONDS, and they still go in one statement."""
        deadline = time.monotonic() + GATHER_LIMIT_SECONDS
        moved = -1
        while True:
            groups = list(self._together_groups)
            waits = [waiting for group in groups if (waiting := group.all_in()) is not None]
            progress = sum(group.left for group in groups)
            left = deadline - time.monotonic()
            if not waits or progress == moved or left <= 0:
                return
            moved = progress
            await asyncio.wait(waits, timeout=min(GATHER_SECONDS, left))

    async def _write_batches(self, sessions: SessionSource) -> None:
        try:
            while self._together_done is not None:
                await self._gather()
                batch, done = self._together, self._together_done
                self._together, self._together_done = [], None
                self._together_groups = set()
                try:
                    await self.write(batch, sessions)
                finally:
                    done.set_result(None)
        finally:
            self._together_task = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:  # keep the loop alive; the batch stays queued for the next try
                log.exception("audit flush failed; %d entries kept for retry", self.pending)

    async def flush(self) -> int:
        async with self._flushing:
            batch, self._queue = self._queue, []
            oldest, self._oldest = self._oldest, None
            if not batch:
                return 0
            left = batch  # what is not written yet: queued again should the flush fail
            try:
                try:
                    await self._insert(batch)
                except Exception as exc:
                    if len(batch) == 1 or database_unavailable(exc):
                        raise
                    left = list(batch)
                    await self._one_by_one(left)
            except BaseException:
                self._queue[:0] = left
                self._oldest = min(t for t in (oldest, self._oldest) if t is not None)
                raise
            self.last_lag = time.monotonic() - oldest if oldest is not None else 0.0
            return len(batch)

    async def _insert(self, entries: Sequence[AuditEntry]) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(INSERT_ROWS, [asdict(e) for e in entries])

    async def _one_by_one(self, left: list[AuditEntry]) -> None:
        """A batch the database refused while reachable, entry by entry (each written one
        taken out of `left`), so that one row it can never take does not keep every other
        row of its batch from being written at each retry. When no row goes in, the fault
        is not a row's (a missing table, a permission): all stay in `left` and the error is
        raised. Rows refused while others went in are set aside and logged, not retried."""
        refused: list[Exception] = []
        written, index = 0, 0
        while index < len(left):
            try:
                await self._insert(left[index : index + 1])
            except Exception as exc:
                if database_unavailable(exc):
                    raise
                refused.append(exc)
                index += 1
                continue
            del left[index]
            written += 1
        if not written:
            raise refused[0]
        for entry, error in zip(left, refused, strict=True):
            log.error(
                "audit entry set aside: the database refuses it (request %s, action %s): %s",
                entry.request_id,
                entry.action,
                type(error).__name__,
            )
        left.clear()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()


async def _insert_raw(engine: AsyncEngine, entries: Sequence[AuditEntry]) -> None:
    """One `INSERT … json_to_recordset` straight through asyncpg, outside any transaction: committed
    when it returns. About a tenth of the CPU of the same statement through an AsyncSession
    (docs/realtime.md, "Cost of durable delivery audit")."""
    async with engine.connect() as connection:
        await _execute_raw(connection, entries)


async def _execute_raw(connection: AsyncConnection, entries: Sequence[AuditEntry]) -> bool:
    """The INSERT, by asyncpg on `connection`; whether it committed as it ran (the
    connection in autocommit: no transaction of the driver's around it)."""
    rows = rows_json(entries)
    pooled = await raw.raw_connection(connection)
    driver: Any = pooled.driver_connection  # asyncpg's
    try:
        await driver.execute(INSERT_JSON_RAW, rows)
    except BaseException:
        if driver.is_closed():  # not through SQLAlchemy, which would have noticed
            await connection.invalidate()
        raise
    return bool(pooled.dbapi_connection.autocommit)  # type: ignore[union-attr]


ACCESS_LOG_SORT = SortKey((m.AuditEvent.at, m.AuditEvent.id))
REFUSED = "refused"
DISCLOSURES = select(m.AuditEvent).where(m.AuditEvent.action != REFUSED)


async def access_log(session: AsyncSession, grant: PatientGrant, page: Page) -> PageOf:
    """A patient's own access log, newest first (self only). Account-level rows have no
    patient_id (NULL): they never match, whatever the patient. Refused reads disclosed
    nothing: they are for operators (`refused_reads`), not listed here."""
    patient_id = own_patient_id(grant)
    pages = await pages_per_parent(
        session, DISCLOSURES, m.AuditEvent.patient_id, [patient_id], ACCESS_LOG_SORT, page
    )
    return pages[patient_id]


async def refused_reads(
    session: AsyncSession,
    since: datetime,
    account_id: str | None = None,
    patient_id: str | None = None,
    limit: int = 100,
) -> list[m.AuditEvent]:
    """The operator's view of probing: refused reads since `since`, newest first."""
    e = m.AuditEvent
    stmt = select(e).where(e.action == REFUSED, e.at >= since)
    if account_id is not None:
        stmt = stmt.where(e.account_id == account_id)
    if patient_id is not None:
        stmt = stmt.where(e.patient_id == patient_id)
    stmt = stmt.order_by(e.at.desc(), e.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())
