"""DataLoader plumbing: each batch is one SQL statement in its own short session."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import PatientGrant
from persistence.paging import Page, PageOf

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
SessionSource = Callable[[], AbstractAsyncContextManager[AsyncSession]]
# Told the size of every batch (portal.metrics adds one); loaders never import the app.
batch_observers: list[Callable[[str, int], None]] = []


class RequestSession:
    """The database side of one request: its batches, and when it may end.

    `shared` (HTTP requests on PostgreSQL): one session, so one pooled connection, for every
    batch of the request and for its authentication and audit, the batches taking turns (a
    connection runs one statement at a time anyway). The session reads in autocommit (no
    BEGIN/ROLLBACK round trips): each statement sees what was committed before it, as READ
    COMMITTED did. Otherwise (SQLite, subscription events) each batch has a short session.

    It also counts the keys loaders have queued and not yet loaded: `close()` waits for
    them, so a request never ends (and never closes its connection) while one of its own
    batches is still running, e.g. a sibling's batch when a non-null field error ended the
    execution early."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, shared: bool) -> None:
        self._sessions = sessions
        self._shared = shared
        self._session: AsyncSession | None = None
        self._turn = asyncio.Lock()
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def __call__(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self._use() if self._shared else self._sessions()

    @asynccontextmanager
    async def _use(self) -> AsyncIterator[AsyncSession]:
        async with self._turn:
            if self._session is None:
                self._session = self._sessions()
            try:
                yield self._session
            except BaseException:
                await self._session.rollback()  # a failed statement spoils the transaction
                raise

    def queued(self) -> None:
        """A loader queued a key; `loaded` follows when its batch has run."""
        self._pending += 1
        self._idle.clear()

    def loaded(self, keys: int) -> None:
        self._pending -= keys
        if self._pending <= 0:
            self._pending = 0
            self._idle.set()

    async def close(self) -> None:
        await self._idle.wait()
        async with self._turn:
            session, self._session = self._session, None
            if session is not None:
                await session.close()


class SessionLoader(DataLoader[K, V | None]):
    """A loader whose batch runs `fetch(session, keys)` and returns values in key order."""

    def __init__(self, sessions: SessionSource) -> None:
        super().__init__()
        self.sessions = sessions
        self._request = sessions if isinstance(sessions, RequestSession) else None

    def do_resolve_reject(self, key: K, future: asyncio.Future[V | None]) -> None:
        # Called by `load` for each key it queues (a cached key is not queued again): every
        # queued key reaches `batch_load_fn` exactly once, which reports it loaded.
        if self._request is not None:
            self._request.queued()
        super().do_resolve_reject(key, future)

    async def batch_load_fn(self, keys: Sequence[K]) -> list[V | None]:
        try:
            for observe in batch_observers:
                observe(type(self).__name__, len(keys))
            async with self.sessions() as session:
                found = await self.fetch(session, keys)
            return [found.get(k) for k in keys]
        finally:
            if self._request is not None:
                self._request.loaded(len(keys))

    async def fetch(self, session: AsyncSession, keys: Sequence[K]) -> dict[K, V]:
        raise NotImplementedError

    async def get(self, key: K) -> V | None:
        """`load`, typed."""
        result: V | None = await self.load(key)
        return result


class ByIdLoader(SessionLoader[str, V]):
    """Rows by primary key through a `fetch_rows(session, ids)` query function."""

    fetch_rows: Callable[[AsyncSession, Sequence[str]], Awaitable[Sequence[Any]]]

    async def fetch(self, session: AsyncSession, keys: Sequence[str]) -> dict[str, V]:
        rows = await type(self).fetch_rows(session, list(set(keys)))
        return {row.id: row for row in rows}


PageKey = tuple[PatientGrant, Page]


class PatientPageLoader(SessionLoader[PageKey, PageOf]):
    """One page per patient grant; keys asking for the same page shape share one statement."""

    async def fetch(self, session: AsyncSession, keys: Sequence[PageKey]) -> dict[PageKey, PageOf]:
        by_page: dict[Page, list[PatientGrant]] = defaultdict(list)
        for grant, page in keys:
            by_page[page].append(grant)
        found: dict[PageKey, PageOf] = {}
        for page, grants in by_page.items():
            pages = await self.fetch_pages(session, grants, page)
            for grant in grants:
                found[(grant, page)] = pages[grant.patient_id]
        return found

    async def fetch_pages(
        self, session: AsyncSession, grants: Sequence[PatientGrant], page: Page
    ) -> dict[str, PageOf]:
        raise NotImplementedError
