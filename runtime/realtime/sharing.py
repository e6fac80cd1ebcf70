"""One event, many subscriptions of one account: the subscriber is loaded once and one set of
loaders serves them all.

An event published to a patient reaches every open subscription covering her; several of
them are often the same account (tabs, devices, the parts of one page). Each delivery used
to load the principal from the database and start fresh loaders, so one event to 100
subscriptions of one account cost 100 principal loads and 100 reads of the same message.
Now the first delivery of an event for (account, session) loads the principal and makes the
loaders, and the others delivering that event take the same `View`: the same viewer at the
same instant, so the same grants and the same answers (loaders are keyed by grants). Every
subscription still checks the shared principal against what it covers before delivering
(`_Stream.check`), its token's expiry against the clock, and audits its own delivery.

The view also carries what its subscriptions work out the same way for that event
(`View.shared`): the instant each one's coverage must be checked again (`_Stream.check`),
and the executed payload of a subscription document asked with the same variables
(schema/subscription.py, `SharedEventExecution`), so 100 subscriptions of one account
asking the same thing execute it once; each still records its own audit of it.

The view also gathers its deliveries' audit (`Gathering`): each delivery joins once checked
and leaves when it hands its audit rows over to be written (or ends unsent); the group commit
(`AuditWriter.write_together`) writes once every delivery that joined has left, so one
event reaching 100 subscriptions of one viewer costs one INSERT before the 100 sends.

An answer taken from another subscription is sent by its subscription straight to its client
(`OperationSender`, set by portal/sockets.py for the operation's task): its audit written
as any other's, then the frame, without passing the payload through graphql-core's
per-event executor, strawberry's per-result pipeline and the socket's result loop, which
would only hand the same data on (schema/subscription.py, `_payloads`).

A view is shared only while it is young (`FRESH`): a subscription that gets to the event
later (its connection busy with an earlier one) loads again rather than act on an old
principal. Every new event has a new key, so a revocation, a sign-out or an age rule that
takes effect before an event is published is seen by every delivery of that event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from domain.access import Principal
from loaders import Loaders

FRESH = timedelta(seconds=1)

Key = tuple[str, str | None, int]  # account, session, event seq


class OperationSender(Protocol):
    """How the subscription being served sends an event's data to its client, with its
    operation id and its protocol's message (portal/sockets.py)."""

    async def send_data(self, data: dict[str, Any]) -> bool:
        """True once sent; False: the socket is closed (nothing more can go)."""
        ...


# The sender of the operation whose task this is (each operation runs in a task of its
# own, so each sees its own); None outside a WebSocket operation.
operation_sender: ContextVar[OperationSender | None] = ContextVar("operation_sender", default=None)


class Gathering:
    """The deliveries of one view under way between their checks and their audit (an
    `AuditWriter.write_together` group: `left` tells the writer it is still moving on)."""

    __slots__ = ("_all_in", "_under_way", "left")

    def __init__(self) -> None:
        self._under_way = 0
        self.left = 0
        self._all_in: asyncio.Future[None] | None = None

    def join(self) -> None:
        self._under_way += 1

    def leave(self) -> None:
        self._under_way -= 1
        self.left += 1
        if self._under_way <= 0 and self._all_in is not None and not self._all_in.done():
            self._all_in.set_result(None)

    def all_in(self) -> asyncio.Future[None] | None:
        """Done once every delivery that joined has left; None: already so."""
        if self._under_way <= 0:
            return None
        if self._all_in is None or self._all_in.done():
            self._all_in = asyncio.get_running_loop().create_future()
        return self._all_in


@dataclass(frozen=True)
class View:
    """The subscriber as of `now` (None: its session has ended), and the loaders to read with."""

    principal: Principal | None
    now: datetime
    loaders: Loaders
    # What the subscriptions delivering this event to this viewer work out alike, worked
    # out by the first: a value, an exception to raise again, or a future of either.
    shared: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)
    gathering: Gathering = field(default_factory=Gathering, compare=False, repr=False)


class EventViews:
    def __init__(self) -> None:
        self._views: dict[Key, asyncio.Future[View]] = {}
        self._made: dict[Key, datetime] = {}

    async def get(self, key: Key, now: datetime, load: Callable[[], Awaitable[View]]) -> View:
        """The view of `key` made less than `FRESH` before `now`, or `load()`'s."""
        self._forget(now)
        shared = self._views.get(key)
        if shared is not None:
            if shared.done() and not shared.cancelled() and shared.exception() is None:
                return shared.result()  # loaded: what awaiting it would give, without a shield
            try:
                return await asyncio.shield(shared)
            except Exception:  # noqa: S110 (the first loader's failure: load ourselves)
                pass
        loop = asyncio.get_running_loop()
        future: asyncio.Future[View] = loop.create_future()
        self._views[key], self._made[key] = future, now
        # Gone once stale even if no other event comes: idle connections keep none of it.
        loop.call_later(FRESH.total_seconds(), self._drop, key, future)
        try:
            view = await load()
        except BaseException as failure:
            self._drop(key, future)
            future.set_exception(failure if isinstance(failure, Exception) else RuntimeError())
            future.exception()  # retrieved: nobody may be waiting
            raise
        future.set_result(view)
        return view

    def _forget(self, now: datetime) -> None:
        """Drop views no longer fresh (the oldest first: the dicts keep insertion order)."""
        while self._made:
            key, made = next(iter(self._made.items()))
            if now - made < FRESH:
                return
            self._drop(key, self._views[key])

    def _drop(self, key: Key, future: asyncio.Future[View]) -> None:
        if self._views.get(key) is future:
            del self._views[key], self._made[key]

    def __len__(self) -> int:
        return len(self._views)
