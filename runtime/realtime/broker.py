"""The broker: publishes outbox events and fans them out to this process's subscribers.

`InProcessBroker` (the default) hands events straight to local listeners: one instance.
`RedisBroker` (`REDIS_URL`) publishes each event on its channel (`<prefix>patient:<id>` or
`<prefix>account:<id>`) and every instance receives them through one pattern subscription
(`<prefix>*`) per process, then dispatches them to its own listeners. One subscription per
process (rather than one per patient channel) keeps subscribing free of races: a local
listener is live the moment it is registered, as long as the Redis link is up. Each instance
then receives every event; that is a few hundred small messages per second at portal scale.

A Redis outage never reaches queries or mutations: publishing raises `BrokerUnavailable` to
the publisher (the events stay in the outbox and are drained again), and the reader
reconnects with backoff. A link that was down, or a listener that fell behind, may have
missed events: such listeners get `RESYNC` and catch up from the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, Final

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from domain.realtime import BusEvent

log = logging.getLogger("runtime.realtime")


class BrokerUnavailable(Exception):
    """The broker could not take the events; they stay in the outbox."""


class _Resync:
    def __repr__(self) -> str:
        return "RESYNC"


RESYNC: Final = _Resync()
Item = BusEvent | _Resync


class Listener:
    """One subscription's mailbox. Bounded: a listener that falls behind gets RESYNC.

    A list and, while its subscription waits, one future and one timer: an idle
    subscription holds a few hundred bytes here (an asyncio.Queue, with its three deques
    and an Event, and an `asyncio.timeout` per wait held several kilobytes)."""

    __slots__ = ("_items", "_maxsize", "_waiter", "channels")

    def __init__(self, channels: Iterable[str], maxsize: int) -> None:
        self.channels = frozenset(channels)
        self._maxsize = maxsize
        self._items: list[Item] = []
        self._waiter: asyncio.Future[None] | None = None

    def put(self, item: Item) -> None:
        if len(self._items) >= self._maxsize:
            # Too far behind: drop what is queued and catch up from the outbox instead.
            item, self._items = RESYNC, []
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self, within: float) -> Item | None:
        """The next item, or None after `within` seconds."""
        if not self._items:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_later(within, _wake, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
            if not self._items:
                return None
        return self._items.pop(0)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Listening:
    """`async with broker.listen(channels) as listener`: registered from entry to exit. A
    class rather than an async generator: an idle subscription keeps no generator frame."""

    __slots__ = ("hub", "listener")

    def __init__(self, hub: Hub, listener: Listener) -> None:
        self.hub, self.listener = hub, listener

    async def __aenter__(self) -> Listener:
        self.hub.add(self.listener)
        return self.listener

    async def __aexit__(self, *_exc: object) -> None:
        self.hub.remove(self.listener)


class Hub:
    """Local fan-out: channel -> the listeners of this process."""

    def __init__(self) -> None:
        self._by_channel: dict[str, set[Listener]] = {}
        self.listeners: set[Listener] = set()

    def add(self, listener: Listener) -> None:
        self.listeners.add(listener)
        for channel in listener.channels:
            self._by_channel.setdefault(channel, set()).add(listener)

    def remove(self, listener: Listener) -> None:
        self.listeners.discard(listener)
        for channel in listener.channels:
            found = self._by_channel.get(channel)
            if found is not None:
                found.discard(listener)
                if not found:
                    del self._by_channel[channel]

    def retune(self, listener: Listener, channels: Iterable[str]) -> None:
        """Let a registered listener hear `channels` from now on (a patient gained)."""
        self.remove(listener)
        listener.channels = frozenset(channels)
        self.add(listener)

    def dispatch(self, event: BusEvent) -> None:
        for channel in event.channels():
            for listener in self._by_channel.get(channel, ()):
                listener.put(event)

    def resync_all(self) -> None:
        for listener in self.listeners:
            listener.put(RESYNC)


class Broker:
    """In-process by default: publishing is local dispatch."""

    queue_size = 1000

    def __init__(self) -> None:
        self.hub = Hub()

    @property
    def live(self) -> bool:
        return True

    async def publish(self, events: Sequence[BusEvent]) -> None:
        for event in events:
            self.hub.dispatch(event)

    def retune(self, listener: Listener, channels: Iterable[str]) -> None:
        """A listener of `listen` hears `channels` from now on (a patient gained)."""
        self.hub.retune(listener, channels)

    def listen(self, channels: Iterable[str]) -> Listening:
        """Register a listener now (before any replay), and remove it on exit."""
        return Listening(self.hub, Listener(channels, self.queue_size))

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


InProcessBroker = Broker


class RedisBroker(Broker):
    """Redis pub/sub: events published here reach the listeners of every instance."""

    ping_seconds = 5.0
    dead_after_seconds = 15.0

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__()
        self.url = url
        self.prefix = prefix
        options: dict[str, Any] = {
            "socket_connect_timeout": 1.0,
            "socket_timeout": 2.0,
            "retry": Retry(NoBackoff(), 0),
        }
        self._publisher = aioredis.from_url(url, **options)
        self._subscriber = aioredis.from_url(url, **options)
        self._reader: asyncio.Task[None] | None = None
        self._live = False

    @property
    def live(self) -> bool:
        return self._live

    async def publish(self, events: Sequence[BusEvent]) -> None:
        try:
            async with self._publisher.pipeline(transaction=False) as pipe:
                for event in events:
                    data = json.dumps(event.to_json())
                    for channel in event.channels():
                        pipe.publish(self.prefix + channel, data)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(str(exc)) from exc

    async def start(self) -> None:
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_forever(), name="redis-reader")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await self._publisher.aclose()
        await self._subscriber.aclose()

    async def _read_forever(self) -> None:
        backoff = 0.1
        while True:
            pubsub: Any = self._subscriber.pubsub()
            was_live = False
            try:
                await self._read(pubsub)
            except (RedisError, OSError, TimeoutError) as exc:
                was_live = self._live
                if was_live or not self._outage_logged:
                    log.warning("redis pub/sub unavailable (%s); reconnecting", exc)
                    self._outage_logged = True
            finally:
                self._live = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            backoff = 0.1 if was_live else min(backoff * 2, 2.0)
            await asyncio.sleep(backoff)

    _outage_logged = False

    async def _read(self, pubsub: Any) -> None:
        await pubsub.psubscribe(self.prefix + "*")
        last_heard = last_ping = time.monotonic()
        while True:
            message = await pubsub.get_message(timeout=1.0)
            now = time.monotonic()
            if message is not None:
                last_heard = now
                self._handle(message)
            elif now - last_heard > self.dead_after_seconds:
                raise TimeoutError("no answer from redis")
            if now - last_ping >= self.ping_seconds:
                await pubsub.ping()
                last_ping = now

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "psubscribe":
            # Live again: whatever was published while the link was down is in the outbox.
            self._live, self._outage_logged = True, False
            log.info("redis pub/sub connected")
            self.hub.resync_all()
        elif kind == "pmessage":
            try:
                event = BusEvent.from_json(json.loads(message["data"]))
                event = replace(event, committed=time.perf_counter())  # arrived here now
            except (ValueError, KeyError, TypeError):
                log.warning("ignored a malformed event on %r", message.get("channel"))
                return
            self.hub.dispatch(event)


def build_broker(redis_url: str | None, prefix: str) -> Broker:
    return RedisBroker(redis_url, prefix) if redis_url else Broker()
