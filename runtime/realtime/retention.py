"""Outbox retention: published events older than `REALTIME_RETENTION_HOURS` are pruned by
the app every `prune_seconds` and by `portal prune-outbox` (e.g. from a scheduler); both
are idempotent and safe on several instances at once (persistence/outbox_retention.py)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from persistence.outbox_retention import Pruned, prune
from runtime.services import Services

log = logging.getLogger("runtime.realtime")


async def prune_outbox(services: Services, now: datetime) -> Pruned | None:
    """Prune what the retention lets go as of `now`; None when events are kept for ever."""
    retention = services.settings.realtime.retention
    if retention is None:
        return None
    return await prune(services.sessions, now - retention, now)


async def _prune_periodically(services: Services, interval: float) -> None:
    while True:
        try:
            pruned = await prune_outbox(services, services.clock.now())
            if pruned is not None and pruned.events:
                log.info("pruned %d outbox events (through seq %d)", pruned.events, pruned.through)
        except Exception:
            log.exception("outbox pruning failed; retrying in %.0fs", interval)
        await asyncio.sleep(interval)


def start_pruning(services: Services) -> asyncio.Task[None] | None:
    """The app's pruning loop, or None when it is off (interval 0) or events are kept for ever."""
    realtime = services.settings.realtime
    if realtime.prune_seconds <= 0 or realtime.retention is None:
        return None
    return asyncio.create_task(
        _prune_periodically(services, realtime.prune_seconds), name="outbox-pruning"
    )
