"""DataLoader plumbing: each batch is one SQL statement, on the request's session; on
PostgreSQL the batches of a request dispatched together whose loaders plan their reads
(`SessionLoader.plan`) are one statement between them (`RequestSession._run_together`)."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import QueuePool

from domain.access import PatientGrant
from persistence import raw
from persistence.db import autocommit_connection
from persistence.paging import Page, PageOf, dialect_of
from persistence.together import rows_together

if TYPE_CHECKING:
    import aiosqlite

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
SessionSource = Callable[[], AbstractAsyncContextManager[AsyncSession]]
# Told the size of every batch (portal.metrics adds one); loaders never import the app.
batch_observers: list[Callable[[str, int], None]] = []


class FairGate:
    """At most `size` holders, the others served strictly in the order they came.

    HTTP requests on PostgreSQL pass it before they check out their connection and leave
    it when they give it back. SQLAlchemy's async pool lets a newcomer take a connection
    given back while an older waiter is being woken, so under load a waiter can be passed
    over again and again until its pool timeout (30 s); and holding fewer requests in
    flight than connections leaves some for mutations and background jobs."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # handed over just as it was cancelled: pass it on
            else:
                self._waiters.remove(turn)
            raise

    def release(self) -> None:
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot passes straight to the oldest waiter
                return
        self._free += 1


class RequestSession:
    """The database side of one request: its batches, and when it may end.

    `shared` (HTTP requests): one session, so one pooled connection, for every batch of the
    request and for its authentication and audit, the batches taking turns (a connection
    runs one statement at a time anyway). On PostgreSQL the connection is checked out from
    the pool here, the session bound to it (`_open`), and it reads in autocommit (no
    BEGIN/ROLLBACK round trips): each statement sees what was committed before it, as READ
    COMMITTED did. On SQLite its reads are one transaction, so one snapshot (see
    `_begin_reads`), which its writes end first (`writing`). Otherwise (subscription
    events) each batch has a short session.

    It also counts the batches loaders have scheduled and not yet run: `close()` waits for
    them, so a request never ends (and never closes its connection) while one of its own
    batches is still running, e.g. a sibling's batch when a non-null field error ended the
    execution early.

    Shared, its batches run one after another in one task of its own (`run`): they would
    take turns on the one connection anyway, and a task per batch cost a task, a lock
    hand-over and a turn of the event loop per batch. (So a batch must never wait for
    another loader's batch: none does, each reads its rows and returns.) On PostgreSQL the
    batches found waiting together whose loaders plan their reads (a dashboard's four lists)
    are run as one statement (`_run_together`)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        shared: bool,
        gate: FairGate | None = None,
    ) -> None:
        self._sessions = sessions
        self._shared = shared
        self._gate = gate  # passed before the shared session's first use, left at its close
        self._session: AsyncSession | None = None
        bind = sessions.kw.get("bind")
        engine = bind if isinstance(bind, AsyncEngine) else None
        self._snapshot = engine is not None and engine.dialect.name == "sqlite"
        # PostgreSQL, shared: the connection comes straight from the pool and the session is
        # bound to it (`_open`); its own connection handling cost twice as much a request.
        self._engine = engine if shared and engine is not None and not self._snapshot else None
        # Batches waiting together may be read in one statement (persistence/together.py).
        self._together = self._engine is not None and self._engine.dialect.name == "postgresql"
        self._connection: AsyncConnection | None = None
        # SQLite: the driver connection (aiosqlite's) whose read transaction this opened.
        self._reading: aiosqlite.Connection | None = None
        self._turn = asyncio.Lock()
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # `run`: the batches dispatched and not yet started, and the task running them.
        self._batches: deque[_Batch] = deque()
        self._runner: asyncio.Task[None] | None = None

    @property
    def runs_batches(self) -> bool:
        """Whether dispatched batches go to `run` (shared) rather than a task each."""
        return self._shared

    def in_batch(self) -> bool:
        """Whether the running code is one of this request's batches (in `run`'s task)."""
        runner = self._runner
        return runner is not None and runner is asyncio.current_task()

    def run(self, loader: SessionLoader[Any, Any], batch: list[Any]) -> None:
        """Run `loader`'s batch after those dispatched before it, in the request's batch
        task (started here if none is running)."""
        self._batches.append((loader, batch))
        runner = self._runner
        if runner is None or runner.done():
            self._runner = asyncio.get_running_loop().create_task(self._run_batches())

    async def _run_batches(self) -> None:
        batches = self._batches
        try:
            while batches:
                if len(batches) > 1 and self._together and self._shared and _plans(batches):
                    planned = self._planned()
                    if len(planned) > 1:
                        await self._run_together(planned)
                        continue
                    # Fewer than two plan their reads: those waiting now one after another
                    # (a plan made is used, not made again), then look again.
                    plans = {id(batch): (keys, plan) for _, batch, keys, plan in planned}
                    for _ in range(len(batches)):
                        loader, batch = batches.popleft()
                        made = plans.get(id(batch))
                        if made is None:
                            await loader._run(batch)
                        else:
                            await loader._run_plan(batch, *made)
                    continue
                loader, batch = batches.popleft()
                await loader._run(batch)
        finally:
            self._runner = None
            self._cancel_batches()

    def _planned(self) -> list[_Planned]:
        """The waiting batches whose loaders plan their reads (`SessionLoader.plan`)."""
        planned: list[_Planned] = []
        for loader, batch in self._batches:
            keys = [key for key, _ in batch]
            try:
                plan = loader.plan(keys, "postgresql")
            except Exception:
                plan = None  # its own run meets the same failure, for its keys alone
            if plan is not None:
                planned.append((loader, batch, keys, plan))
        return planned

    async def _run_together(self, planned: list[_Planned]) -> None:
        """`planned` (two or more waiting batches) as one statement (`persistence.together`),
        each batch then given its rows; the other batches are left waiting. Should the
        combined statement fail (or not be possible), each batch is run on its own after
        all, as it would have been: each fails or succeeds as it always has."""
        batches = self._batches
        taken = {id(batch) for _, batch, _, _ in planned}
        left = [waiting for waiting in batches if id(waiting[1]) not in taken]
        batches.clear()
        batches.extend(left)
        reads = [(read.statement, read.values) for *_, plan in planned for read in plan.reads]
        try:
            try:
                async with self() as session:
                    parts = await rows_together(session, reads)
            except Exception:
                parts = None  # each on its own below: its own outcome, as before
            if parts is None:
                while planned:
                    loader, batch, keys, plan = planned[0]
                    del planned[0]
                    await loader._run_plan(batch, keys, plan)
                return
        except BaseException:  # cancelled: the batches not run are cancelled, as `run`'s
            for loader, batch, _, _ in planned:
                loader._cancel(batch)
            raise
        at = 0
        for loader, batch, keys, plan in planned:
            count = len(plan.reads)
            loader._settle_plan(batch, keys, plan, parts[at : at + count])
            at += count

    def _cancel_batches(self) -> None:
        """The batch task was cancelled (the loop shutting down), maybe before it started:
        the batches it did not start are cancelled, not left pending."""
        batches = self._batches
        while batches:
            loader, batch = batches.popleft()
            loader._cancel(batch)

    def __call__(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session to read on."""
        return _Turn(self, False) if self._shared else self._sessions()

    def writing(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session to write on (the request's audit, the session's last use), committed
        by the writer. On SQLite the request's read transaction is ended first: a write
        inside it would have to upgrade a snapshot another connection may have committed
        past since, which SQLite refuses at once (SQLITE_BUSY_SNAPSHOT, no waiting), and
        the audit would then miss the response. Reads after it begin a new snapshot."""
        return _Turn(self, True) if self._shared else self._sessions()

    async def _enter(self, write: bool) -> AsyncSession:
        """The shared session, this use's turn taken (`_leave` gives it back)."""
        await self._turn.acquire()
        try:
            if self._session is None:
                if self._gate is not None:
                    await self._gate.acquire()
                try:
                    self._session = await self._open()
                except BaseException:
                    if self._gate is not None:
                        self._gate.release()
                    raise
        except BaseException:
            self._turn.release()
            raise
        session = self._session
        if self._snapshot:
            try:
                if write:
                    await self._end_reads(session)
                elif self._reading is None:
                    await self._begin_reads(session)
            except BaseException:
                await self._leave(failed=True)
                raise
        return session

    async def _open(self) -> AsyncSession:
        """The shared session: on PostgreSQL bound to a connection checked out here for the
        request (a session's own checkout, transaction bookkeeping and release cost ~75 µs
        more a request), whose statements `persistence.raw` runs on it directly; the ORM
        reads of the rarer paths go through the session, on the same connection. A
        connection that cannot be had fails this use, as the session's first statement
        would have (persistence.db.database_unavailable: 503)."""
        if self._engine is None or not self._shared:
            return self._sessions()
        connection = await autocommit_connection(self._engine)
        try:
            session = self._sessions(bind=connection)
            await raw.bound(session, connection)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        return session

    async def _leave(self, *, failed: bool) -> None:
        try:
            if failed and self._session is not None:
                self._reading = None
                await self._session.rollback()  # a failed statement spoils the transaction
        finally:
            self._turn.release()

    async def _begin_reads(self, session: AsyncSession) -> None:
        """SQLite: BEGIN on the session's connection, so that the request's reads are one
        transaction, one snapshot of the database (taken at its first read; in WAL mode a
        reader blocks no writer). Python's sqlite3 would otherwise run each SELECT in a
        transaction of its own, and a batch could see a write its predecessor did not.
        Sent on the driver itself: one thread hop, and SQLAlchemy's transaction (which
        sqlite3 only begins before a write) is the same either way: its commit, rollback or
        the pool's reset ends this one too. Not when a transaction is already open (a write
        not committed yet): reads then see it, and no commit of ours may end it."""
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        if driver is not None and not driver.in_transaction:
            await driver.execute("BEGIN")
            self._reading = driver

    async def _end_reads(self, session: AsyncSession) -> None:
        reading = self._reading
        self._reading = None
        if reading is None or not session.in_transaction():
            return  # ended with SQLAlchemy's transaction, its connection given back
        connection = await session.connection()
        # Not if given back meanwhile (this session's transaction is then on another one).
        same = (await connection.get_raw_connection()).driver_connection is reading
        if same and reading.in_transaction:
            await reading.commit()  # reads only: nothing to keep, and the snapshot is let go

    def queued(self) -> None:
        """A loader scheduled a batch; `loaded` follows when it has run."""
        self._pending += 1
        self._idle.clear()

    def loaded(self) -> None:
        self._pending -= 1
        if self._pending <= 0:
            self._pending = 0
            self._idle.set()

    async def unshare(self) -> None:
        """From now on each use has a short session of its own, the shared one's connection
        back in the pool: a mutation's unit of work takes a connection of its own, and a
        request holding one while it waits for another could, with every pooled connection
        so held, wait forever."""
        async with self._turn:
            self._shared = False
            await self._give_back()

    async def close(self) -> None:
        """The request's end: its batches awaited, the shared session's connection back in
        the pool. A load after this (a resolver the request left running, e.g. beside a
        field whose error ended the operation) gets a short session of its own, closed
        after its use: it used to open the shared session again, and with nobody left to
        close it its connection stayed checked out until the garbage collector found it."""
        runner = self._runner
        if runner is not None and runner.done():
            self._cancel_batches()  # cancelled before it started
        await self._idle.wait()
        await self.unshare()

    async def _give_back(self) -> None:
        session, self._session = self._session, None
        connection, self._connection = self._connection, None
        self._reading = None  # closing the session rolls its transaction back
        if session is not None:
            try:
                try:
                    if connection is None or _used(session):
                        await session.close()
                finally:
                    if connection is not None:
                        await _check_in(connection)  # back to the pool
            finally:
                if self._gate is not None:
                    self._gate.release()


_Batch = tuple["SessionLoader[Any, Any]", list[Any]]
# a waiting batch whose loader planned its reads: the loader, the batch, its keys, the plan
_Planned = tuple["SessionLoader[Any, Any]", list[Any], list[Any], "Plan[Any, Any]"]


def _plans(batches: deque[_Batch]) -> bool:
    """Whether two or more of these batches' loaders may plan their reads."""
    count = 0
    for loader, _ in batches:
        if loader.plans:
            count += 1
    return count > 1


async def _check_in(connection: AsyncConnection) -> None:
    """`connection.close()`: back to the pool. Done here, without the greenlet SQLAlchemy
    runs its close in (~9 µs a request), when the check-in has no I/O to wait for: the
    connection live and in autocommit, with no transaction of SQLAlchemy's or the driver's
    to roll back, the pool's reset and its isolation level's reset are then attribute
    changes, and a queue pool with room for it keeps it rather than close it. Should any of
    it want I/O after all, the pool invalidates the connection rather than keep it
    (SQLAlchemy's own check-in outside a greenlet, as for a collected one)."""
    sync = connection.sync_connection
    if (
        sync is not None
        and not sync.closed
        and not sync.invalidated
        and not sync.in_transaction()
        and getattr(sync.connection.dbapi_connection, "autocommit", False) is True
        and isinstance(pool := sync.engine.pool, QueuePool)
        and pool.checkedin() < pool.size()
    ):
        sync.close()
    else:
        await connection.close()


def _used(session: AsyncSession) -> bool:
    """Whether closing `session` has anything to do (a bound one that only lent its
    connection to `persistence.raw` has not: no transaction, no object)."""
    sync = session.sync_session
    return sync.in_transaction() or bool(sync.identity_map) or not sync._is_clean()


class _Turn:
    """A use of a shared `RequestSession` (`async with`): its session, the turn taken."""

    __slots__ = ("_request", "_write")

    def __init__(self, request: RequestSession, write: bool) -> None:
        self._request = request
        self._write = write

    async def __aenter__(self) -> AsyncSession:
        return await self._request._enter(self._write)

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        await self._request._leave(failed=kind is not None)


R = TypeVar("R")


@dataclass(slots=True)  # not frozen: its __init__ one call, not four
class Read(Generic[R]):
    """A read of a batch: a statement built once per process (persistence/raw.py compiles
    it once), the values it runs with, and `finish`, what the batch makes of its rows
    (read by position) once they have come, priming other loaders with what came along."""

    statement: Select[Any]
    values: Mapping[str, Any]
    finish: Callable[[Sequence[Sequence[Any]]], R]


@dataclass(slots=True)
class Plan(Generic[K, V]):
    """A batch as its reads (`SessionLoader.plan`): `found` makes the batch's values, by
    key, of what each read's `finish` made, in the order of `reads`."""

    reads: Sequence[Read[Any]]
    found: Callable[[list[Any]], Mapping[K, V]]


class SessionLoader(DataLoader[K, V | None]):
    """A loader whose batch runs `fetch(session, keys)` and returns values in key order.

    aiodataloader's `DataLoader`, with its hot paths done here at less cost and the same
    behaviour: one `Future` per key, cached for the request (a key is its own cache key);
    the keys asked for until the dispatch runs, two turns of the event loop after the
    first one, go in one batch, run as a task of its own (aiodataloader scheduled the same
    dispatch as a coroutine wrapped in a task, then the batch as another); a value that is
    an `Exception` fails its key alone, a failed batch fails each of its keys and leaves
    them uncached; `prime` caches a value unless the key is there already."""

    def __init__(self, sessions: SessionSource) -> None:
        # Not DataLoader.__init__: it checks that `batch_load_fn` is a coroutine function
        # (it is: below) and makes a cache-key function per instance, ~15 loaders a request.
        try:
            self.loop = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = asyncio.get_event_loop()
        self._cache: dict[Any, asyncio.Future[V | None]] = {}
        self._queue: list[tuple[K, asyncio.Future[V | None]]] = []  # type: ignore[assignment]
        self.sessions = sessions
        self._request = sessions if isinstance(sessions, RequestSession) else None
        self._name = type(self).__name__

    def get_cache_key(self, key: K) -> K:
        return key

    def load(self, key: K) -> asyncio.Future[V | None]:
        if key is None:
            raise TypeError(
                "The loader.load() function must be called with a value, but got: None."
            )
        future = self._cache.get(key)
        if future is None:
            request = self._request
            if request is not None and request.runs_batches and request.in_batch():
                # Its batch would run after this one, in the same task: awaited here, it
                # would never come (a hang until the client gives up). Fail loudly instead.
                raise RuntimeError(
                    f"{type(self).__name__}.load inside a batch of the same request: a batch"
                    " reads its rows and returns, it does not load through another loader"
                )
            future = self._cache[key] = self.loop.create_future()
            queue = self._queue
            queue.append((key, future))
            if len(queue) == 1:
                if self._request is not None:
                    self._request.queued()
                self.loop.call_soon(self._dispatch_soon)
        return future

    def prime(self, key: K, value: V | None) -> SessionLoader[K, V]:
        if key not in self._cache:
            future = self.loop.create_future()
            if isinstance(value, Exception):
                future.set_exception(value)
            else:
                future.set_result(value)
            self._cache[key] = future
        return self

    def _dispatch_soon(self) -> None:
        self.loop.call_soon(self._dispatch)  # the turn aiodataloader's task took to start

    def _dispatch(self) -> None:
        queue: list[tuple[K, asyncio.Future[V | None]]] = self._queue
        self._queue = []
        size = self.max_batch_size
        batches = [queue]
        if size and size < len(queue):
            batches = [queue[start : start + size] for start in range(0, len(queue), size)]
        request = self._request
        for n, batch in enumerate(batches):
            if n and request is not None:
                request.queued()  # one more batch of this dispatch
            if request is not None and request.runs_batches:
                request.run(self, batch)
            else:
                self.loop.create_task(self._run(batch))

    def _cancel(self, queue: list[tuple[K, asyncio.Future[V | None]]]) -> None:
        """A batch that will not run: its keys cancelled and uncached."""
        for key, future in queue:
            self._cache.pop(key, None)
            future.cancel()
        if self._request is not None:
            self._request.loaded()

    async def _run(self, queue: list[tuple[K, asyncio.Future[V | None]]]) -> None:
        try:
            try:
                values = await self.batch_load_fn([key for key, _ in queue])
                if len(values) != len(queue):
                    raise TypeError(f"{self._name}: {len(values)} values for {len(queue)} keys")
            except Exception as error:
                self._fail(queue, error)
                return
            self._settle(queue, values)
        finally:
            if self._request is not None:
                self._request.loaded()

    async def _run_plan(
        self, queue: list[tuple[K, asyncio.Future[V | None]]], keys: list[K], plan: Plan[K, V]
    ) -> None:
        """`_run`, its `plan` made already: its reads one after another."""
        try:
            for observe in batch_observers:
                observe(self._name, len(keys))
            try:
                async with self.sessions() as session:
                    parts = [
                        await raw.rows(session, read.statement, read.values) for read in plan.reads
                    ]
            except Exception as error:
                self._fail(queue, error)
                return
            self._finish_plan(queue, keys, plan, parts)
        finally:
            if self._request is not None:
                self._request.loaded()

    def _settle_plan(
        self,
        queue: list[tuple[K, asyncio.Future[V | None]]],
        keys: list[K],
        plan: Plan[K, V],
        parts: Sequence[Sequence[Sequence[Any]]],
    ) -> None:
        """`_run`, the rows of `plan`'s reads given (read together with other batches')."""
        try:
            for observe in batch_observers:
                observe(self._name, len(keys))
            self._finish_plan(queue, keys, plan, parts)
        finally:
            if self._request is not None:
                self._request.loaded()

    def _finish_plan(
        self,
        queue: list[tuple[K, asyncio.Future[V | None]]],
        keys: list[K],
        plan: Plan[K, V],
        parts: Sequence[Sequence[Sequence[Any]]],
    ) -> None:
        """The batch's values made of its reads' rows: the same as `fetch` makes, a failure
        for its keys alone."""
        try:
            found = plan.found(
                [read.finish(rows) for read, rows in zip(plan.reads, parts, strict=True)]
            )
            values = [found.get(key) for key in keys]
        except Exception as error:
            self._fail(queue, error)
            return
        self._settle(queue, values)

    def _fail(self, queue: list[tuple[K, asyncio.Future[V | None]]], error: Exception) -> None:
        for key, future in queue:
            self._cache.pop(key, None)  # not cached: asked again, tried again
            if not future.done():
                future.set_exception(error)

    @staticmethod
    def _settle(queue: list[tuple[K, asyncio.Future[V | None]]], values: list[V | None]) -> None:
        for (_, future), value in zip(queue, values, strict=True):
            if not future.done():
                if isinstance(value, Exception):
                    future.set_exception(value)
                else:
                    future.set_result(value)

    async def batch_load_fn(self, keys: Sequence[K]) -> list[V | None]:
        for observe in batch_observers:
            observe(self._name, len(keys))
        async with self.sessions() as session:
            found = await self.fetch(session, keys)
        return [found.get(k) for k in keys]

    async def fetch(self, session: AsyncSession, keys: Sequence[K]) -> Mapping[K, V]:
        """The values of `keys` found (a key absent: None). By default the reads of
        `plan`, one statement after another."""
        plan = self.plan(keys, dialect_of(session))
        if plan is None:
            raise NotImplementedError
        return plan.found(
            [
                read.finish(await raw.rows(session, read.statement, read.values))
                for read in plan.reads
            ]
        )

    # Whether `plan` may give a plan (set for each subclass: it overrides `plan`).
    plans: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.plans = cls._plans()

    @classmethod
    def _plans(cls) -> bool:
        return cls.plan is not SessionLoader.plan

    def plan(self, keys: Sequence[K], dialect: str) -> Plan[K, V] | None:
        """This batch's reads as statements for `dialect` and what makes its values of
        their rows, for `fetch` to run, or `RequestSession` with other batches' in one
        statement (None: this loader reads in `fetch` only). Reads no database, calls no
        loader: the reads are run afterwards, in any order with others'."""
        return None

    def get(self, key: K) -> Awaitable[V | None]:
        """`load`, typed: its future itself, awaited by the caller (a coroutine around it
        cost a frame and an await per key, ~25 keys a dashboard)."""
        return self.load(key)


class ByIdLoader(SessionLoader[str, V]):
    """Rows by primary key through a `fetch_rows(session, ids)` query function."""

    fetch_rows: Callable[[AsyncSession, Sequence[str]], Awaitable[Sequence[Any]]]

    async def fetch(self, session: AsyncSession, keys: Sequence[str]) -> dict[str, V]:
        rows = await type(self).fetch_rows(session, list(set(keys)))
        return {row.id: row for row in rows}


PageKey = tuple[PatientGrant, Page]


class AccountListLoader(SessionLoader[str, list[V]]):
    """One whole list per account id (the viewer's own); `fetch_pairs` reads every
    account's in one statement, as (account id, value) in the list's order."""

    async def fetch(self, session: AsyncSession, keys: Sequence[str]) -> dict[str, list[V]]:
        grouped: dict[str, list[V]] = defaultdict(list)
        for account_id, value in await self.fetch_pairs(session, list(dict.fromkeys(keys))):
            grouped[account_id].append(value)
        return {key: grouped.get(key, []) for key in keys}

    async def fetch_pairs(
        self, session: AsyncSession, account_ids: Sequence[str]
    ) -> list[tuple[str, V]]:
        raise NotImplementedError


class PatientPageLoader(SessionLoader[PageKey, PageOf]):
    """One page per patient grant; keys asking for the same page shape share one statement.

    A loader whose page is one statement says so by `page_read` (its `fetch` and `plan`
    are then made of it); others read in `fetch_pages`."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[PageKey]
    ) -> Mapping[PageKey, PageOf]:
        by_page: dict[Page, list[PatientGrant]] = defaultdict(list)
        for grant, page in keys:
            by_page[page].append(grant)
        dialect = dialect_of(session)
        found: dict[PageKey, PageOf] = {}
        for page, grants in by_page.items():
            read = self.page_read(grants, page, dialect)
            if read is None:
                pages = await self.fetch_pages(session, grants, page)
            else:
                pages = read.finish(await raw.rows(session, read.statement, read.values))
            for grant in grants:
                found[(grant, page)] = pages[grant.patient_id]
        return found

    def plan(self, keys: Sequence[PageKey], dialect: str) -> Plan[PageKey, PageOf] | None:
        return self._plan(_by_page(keys), dialect)

    def _plan(
        self, by_page: dict[Page, list[PatientGrant]], dialect: str
    ) -> Plan[PageKey, PageOf] | None:
        reads = []
        for page, grants in by_page.items():
            read = self.page_read(grants, page, dialect)
            if read is None:
                return None
            reads.append(read)

        def found(outcomes: list[dict[str, PageOf]]) -> dict[PageKey, PageOf]:
            pages_of: dict[PageKey, PageOf] = {}
            for (page, grants), pages in zip(by_page.items(), outcomes, strict=True):
                for grant in grants:
                    pages_of[(grant, page)] = pages[grant.patient_id]
            return pages_of

        return Plan(reads, found)

    def page_read(
        self, grants: Sequence[PatientGrant], page: Page, dialect: str
    ) -> Read[dict[str, PageOf]] | None:
        """The pages of `grants`' patients as one read: its `finish` makes them, by
        patient id (None: this loader reads in `fetch_pages`)."""
        return None

    async def fetch_pages(
        self, session: AsyncSession, grants: Sequence[PatientGrant], page: Page
    ) -> dict[str, PageOf]:
        raise NotImplementedError


def _by_page(keys: Sequence[PageKey]) -> dict[Page, list[PatientGrant]]:
    by_page: dict[Page, list[PatientGrant]] = defaultdict(list)
    for grant, page in keys:
        by_page[page].append(grant)
    return by_page
