"""One event to many subscriptions of one account: the subscriber is loaded once and one set
of loaders serves them all, while the view is young; a new event, or a late delivery, loads
again (runtime/realtime/sharing.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from domain.access import Principal
from loaders import Loaders
from runtime.realtime.sharing import FRESH, EventViews, View
from runtime.services import Services, build_services
from tests.conftest import NOW, settings_for


@pytest.fixture
async def services() -> AsyncIterator[Services]:
    built = build_services(settings_for("sqlite+aiosqlite://"))  # no query is made
    yield built
    await built.engine.dispose()


class Loads:
    """Counts loads; each one takes a moment, as a database read does."""

    def __init__(self, services: Services) -> None:
        self.services, self.count = services, 0

    async def __call__(self) -> View:
        self.count += 1
        await asyncio.sleep(0.01)
        principal = Principal(account_id="acct-me", now=NOW, patient_id="pat-me")
        return View(principal, NOW, Loaders(self.services))


async def test_one_load_serves_every_subscription_delivering_the_event(
    services: Services,
) -> None:
    views, load = EventViews(), Loads(services)
    got = await asyncio.gather(*(views.get(("acct-me", "ses-1", 7), NOW, load) for _ in range(100)))
    assert load.count == 1
    assert len({id(view.loaders) for view in got}) == 1
    # The next event, another session of the account: their own loads.
    await views.get(("acct-me", "ses-1", 8), NOW, load)
    await views.get(("acct-me", "ses-2", 7), NOW, load)
    assert load.count == 3


async def test_a_late_delivery_loads_again(services: Services) -> None:
    views, load = EventViews(), Loads(services)
    first = await views.get(("acct-me", None, 7), NOW, load)
    assert await views.get(("acct-me", None, 7), NOW + FRESH / 2, load) is first
    late = await views.get(("acct-me", None, 7), NOW + FRESH, load)
    assert late is not first
    assert load.count == 2
    await views.get(("acct-me", None, 9), NOW + FRESH * 3, load)
    assert len(views) == 1  # the old views are gone


async def test_a_failed_load_is_not_shared(services: Services) -> None:
    views, load = EventViews(), Loads(services)

    async def failing() -> View:
        await asyncio.sleep(0.01)
        raise ConnectionError("database unavailable")

    first = asyncio.create_task(views.get(("acct-me", None, 7), NOW, failing))
    await asyncio.sleep(0)
    second = asyncio.create_task(views.get(("acct-me", None, 7), NOW + timedelta(0), load))
    with pytest.raises(ConnectionError):
        await first
    assert (await second).principal is not None  # it loaded for itself
    assert load.count == 1
