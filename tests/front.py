"""Helpers for the HTTP front's tests: an app with other settings, its Redis closed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from portal.http import GraphQLOverHTTP
from tests.conftest import Database, Portal, _portal


@contextlib.asynccontextmanager
async def portal_on(database: Database | str, **overrides: Any) -> AsyncIterator[Portal]:
    """The app on `database` (or a database URL) with settings overrides; cleaned up even
    when the test fails inside (the fixture's teardown runs to its end)."""
    if isinstance(database, str):
        database = Database("given", database, None)
    apps = _portal(database, **overrides)
    portal = await anext(apps)
    try:
        yield portal
    finally:
        await close_front(portal)
        with contextlib.suppress(StopAsyncIteration):
            await anext(apps)


async def close_front(portal: Portal) -> None:
    """The front's Redis connections (the app's lifespan closes them when served)."""
    transport: Any = portal.client._transport
    for route in transport.app.routes:
        endpoint = getattr(route, "app", None)
        if isinstance(endpoint, GraphQLOverHTTP):
            await endpoint.aclose()
