"""The automatic release of held results, run by the app every `release_seconds` and by
`portal release-due` (e.g. from a scheduler); both are idempotent (persistence/releases.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from persistence.releases import release_due
from runtime.services import Services

log = logging.getLogger("runtime.realtime")


async def release_due_results(services: Services, now: datetime) -> list[str]:
    settings = services.settings
    async with services.session() as session, session.begin():
        return await release_due(
            session, now, settings.release, settings.ages, settings.realtime.release_lookback
        )


async def _release_periodically(services: Services, interval: float) -> None:
    while True:
        try:
            released = await release_due_results(services, services.clock.now())
            if released:
                log.info("released %d held results", len(released))
        except Exception:
            log.exception("automatic result release failed; retrying in %.0fs", interval)
        await asyncio.sleep(interval)


def start_releases(services: Services) -> asyncio.Task[None] | None:
    interval = services.settings.realtime.release_seconds
    if interval <= 0:
        return None
    return asyncio.create_task(_release_periodically(services, interval), name="result-releases")


async def stop(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
