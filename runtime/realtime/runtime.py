"""The process-wide real-time objects: broker, outbox publisher, open-socket registry."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.clock import Clock
from runtime.realtime.broker import Broker, build_broker
from runtime.realtime.publisher import OutboxPublisher
from runtime.realtime.settings import RealtimeSettings
from runtime.realtime.sharing import EventViews


class SocketRegistry:
    """Open WebSocket connections per account, in this process (the per-account cap)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def open(self, account_id: str) -> bool:
        if self._open[account_id] >= self.limit:
            return False
        self._open[account_id] += 1
        return True

    def close(self, account_id: str) -> None:
        self._open[account_id] -= 1
        if self._open[account_id] <= 0:
            del self._open[account_id]

    def count(self, account_id: str | None = None) -> int:
        return self._open[account_id] if account_id else sum(self._open.values())


class Realtime:
    def __init__(
        self,
        settings: RealtimeSettings,
        redis_url: str | None,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.broker: Broker = build_broker(redis_url, settings.channel_prefix)
        self.publisher = OutboxPublisher(
            sessions, self.broker, clock, settings.drain_seconds, settings.drain_idle_seconds
        )
        self.sockets = SocketRegistry(settings.max_connections_per_account)
        self.deliveries = asyncio.Semaphore(settings.delivery_concurrency)
        self.views = EventViews()

    async def start(self, engine: AsyncEngine) -> None:
        await self.broker.start()
        self.publisher.start(engine)

    async def close(self, engine: AsyncEngine) -> None:
        await self.publisher.close(engine)
        await self.broker.close()
