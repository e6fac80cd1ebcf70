"""The loaders' contract (loaders/base.py `SessionLoader`, which does aiodataloader's hot
paths itself): which keys share a batch, caching for the request, errors per key, `prime`,
and `RequestSession.close` waiting for batches still to run. Each batch runs a statement
on a real SQLite database through the request's session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from loaders.base import RequestSession, SessionLoader
from persistence.db import create_engine, session_factory


class Bad(Exception):
    pass


class Doubling(SessionLoader[int, int]):
    """Each key's double, read from the database; the key 13 fails alone, and a batch
    holding 666 fails whole."""

    def __init__(self, sessions: RequestSession) -> None:
        super().__init__(sessions)
        self.batches: list[list[int]] = []

    async def fetch(self, session: AsyncSession, keys: Sequence[int]) -> dict[int, int]:
        self.batches.append(list(keys))
        if 666 in keys:
            raise Bad("the whole batch")
        found: dict[int, int] = {}
        for key in keys:
            found[key] = (await session.execute(text("SELECT :k * 2"), {"k": key})).scalar_one()
        return found

    async def batch_load_fn(self, keys: Sequence[int]) -> list[int | None]:
        values: list[object] = list(await super().batch_load_fn(keys))
        for n, key in enumerate(keys):
            if key == 13:
                values[n] = Bad(f"key {key}")  # an error for this key alone
        return values  # type: ignore[return-value]


@pytest.fixture
async def request_session(tmp_path: Path) -> AsyncIterator[RequestSession]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'loaders.db'}")
    request = RequestSession(session_factory(engine), shared=True)
    try:
        yield request
    finally:
        await request.close()
        await engine.dispose()


async def test_keys_asked_before_the_dispatch_share_one_batch(
    request_session: RequestSession,
) -> None:
    """The batch takes the keys asked until its dispatch, two turns of the event loop after
    the first key: asked in the same turn or the next, they share it; later, another one."""
    loader = Doubling(request_session)
    loop = asyncio.get_running_loop()
    asked: dict[int, asyncio.Future[int | None]] = {}

    def ask(key: int) -> None:
        asked[key] = loader.load(key)

    ask(1)
    ask(2)
    loop.call_soon(ask, 3)  # the next turn: before the dispatch
    loop.call_soon(loop.call_soon, ask, 4)  # the turn after: the dispatch came first
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert [await asked[k] for k in (1, 2, 3, 4)] == [2, 4, 6, 8]
    assert loader.batches == [[1, 2, 3], [4]]


async def test_a_key_is_loaded_once_per_request(request_session: RequestSession) -> None:
    loader = Doubling(request_session)
    first, again = loader.load(5), loader.load(5)
    assert first is again
    assert await loader.get(5) == 10
    assert await loader.get(5) == 10
    assert loader.batches == [[5]]


async def test_an_error_value_fails_its_key_alone(request_session: RequestSession) -> None:
    loader = Doubling(request_session)
    results = await asyncio.gather(loader.get(12), loader.get(13), return_exceptions=True)
    assert results[0] == 24
    assert isinstance(results[1], Bad)
    assert loader.batches == [[12, 13]]


async def test_a_failed_batch_fails_each_key_and_caches_none(
    request_session: RequestSession,
) -> None:
    loader = Doubling(request_session)
    results = await asyncio.gather(loader.get(666), loader.get(7), return_exceptions=True)
    assert [type(r) for r in results] == [Bad, Bad]
    assert await loader.get(7) == 14  # asked again: loaded again
    assert loader.batches == [[666, 7], [7]]


async def test_prime_keeps_what_is_cached(request_session: RequestSession) -> None:
    loader = Doubling(request_session)
    loader.prime(1, 100).prime(1, 200)
    loader.prime(2, Bad("primed"))  # type: ignore[arg-type]
    assert await loader.get(1) == 100
    with pytest.raises(Bad):
        await loader.get(2)
    assert loader.batches == []


async def test_get_is_the_keys_cached_future_itself(request_session: RequestSession) -> None:
    """No coroutine around a key's future (a frame and an await per key): `get` hands out
    the future `load` caches, awaited by the caller; one batch as before."""
    loader = Doubling(request_session)
    first = loader.get(4)
    assert isinstance(first, asyncio.Future)
    assert first is loader.get(4) is loader.load(4)
    assert await first == 8
    assert list(await asyncio.gather(loader.get(4), loader.get(5))) == [8, 10]
    assert loader.batches == [[4], [5]]


async def test_close_waits_for_a_batch_not_yet_run(request_session: RequestSession) -> None:
    """A request's session is given back only when every batch it scheduled has run, a
    batch still waiting for its dispatch included."""
    loader = Doubling(request_session)
    pending = loader.load(21)  # dispatched two turns from now
    await request_session.close()
    assert pending.done()
    assert pending.result() == 42


class Tasked(Doubling):
    """Doubling, noting the task each batch ran in."""

    def __init__(self, sessions: RequestSession, tasks: list[asyncio.Task[object] | None]) -> None:
        super().__init__(sessions)
        self.tasks = tasks

    async def fetch(self, session: AsyncSession, keys: Sequence[int]) -> dict[int, int]:
        self.tasks.append(asyncio.current_task())
        return await super().fetch(session, keys)


async def test_a_requests_batches_run_in_turn_in_one_task(
    request_session: RequestSession,
) -> None:
    """A shared session's batches, of any loader, run one after another in one task of the
    request: no task, lock hand-over and turn of the event loop per batch."""
    tasks: list[asyncio.Task[object] | None] = []
    first, second = Tasked(request_session, tasks), Tasked(request_session, tasks)
    values = await asyncio.gather(first.get(1), second.get(2), first.get(3))
    assert list(values) == [2, 4, 6]
    assert first.batches == [[1, 3]]
    assert second.batches == [[2]]
    assert len(tasks) == 2
    assert tasks[0] is tasks[1] is not None


class Nesting(Doubling):
    """A batch that loads through another loader (which none of ours does)."""

    def __init__(self, sessions: RequestSession, other: Doubling) -> None:
        super().__init__(sessions)
        self.other = other

    async def fetch(self, session: AsyncSession, keys: Sequence[int]) -> dict[int, int]:
        return {key: await self.other.get(key) or 0 for key in keys}


async def test_a_batch_loading_through_another_loader_fails_instead_of_hanging(
    request_session: RequestSession,
) -> None:
    """Its batch would wait behind the running one in the same task forever: the load
    raises, and the key fails at once with that error."""
    nesting = Nesting(request_session, Doubling(request_session))
    with pytest.raises(RuntimeError, match="inside a batch"):
        await asyncio.wait_for(nesting.get(5), 2)


async def test_batches_not_run_when_the_batch_task_is_cancelled_are_cancelled(
    request_session: RequestSession,
) -> None:
    """The loop shutting down cancels the request's batch task: the batches it had not
    started are cancelled (their keys uncached), and the request may still close."""
    first, second = Doubling(request_session), Doubling(request_session)
    one, two = first.load(1), second.load(2)
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # both dispatched to the batch task, which has not started
    runner = request_session._runner
    assert runner is not None
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    await asyncio.wait_for(request_session.close(), 1)
    assert one.cancelled()
    assert two.cancelled()
    assert await second.get(2) == 4  # asked again: loaded again
