"""What an idle WebSocket connection keeps (issue 12): no loaders between events, no
access token once it is read (the `connection_init` deadline: test_socket_protocol.py)."""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from domain.access import Principal
from domain.events import EventKind
from domain.scopes import RecordArea
from loaders import Loaders
from portal.websocket import connect
from runtime.context import Context, SocketContext
from runtime.realtime import streams
from runtime.realtime.sharing import View
from runtime.services import Services, build_services
from tests.conftest import ACCOUNT_IDS, ALEX, NOW, Database, settings_for
from tests.realtime.harness import token_for


@pytest.fixture
async def services() -> AsyncIterator[Services]:
    built = build_services(settings_for("sqlite+aiosqlite://"))  # no query is made
    yield built
    await built.engine.dispose()


def socket_context(services: Services) -> SocketContext:
    return SocketContext.of(Context(services=services, request=None, request_id="ws", now=NOW))


def test_an_idle_connection_keeps_no_loaders(services: Services) -> None:
    context = socket_context(services)
    assert "loaders" not in vars(context)
    principal = Principal(account_id="acct-me", now=NOW, patient_id="pat-me")
    view = View(principal, NOW, Loaders(services))
    context.begin_event(view, "Watch")
    assert context.loaders is view.loaders  # the event reads through its view's
    context.end_event()
    assert "loaders" not in vars(context)
    made = context.loaders  # a read outside an event: fresh ones, made when asked
    assert isinstance(made, Loaders)
    assert made is not view.loaders
    assert context.loaders is made


async def test_the_token_is_not_kept_once_the_connection_is_accepted(
    seeded_db: Database,
) -> None:
    services = build_services(settings_for(seeded_db.url))
    try:
        context = socket_context(services)
        token = token_for(ACCOUNT_IDS[ALEX])
        context.connection_params = {"authorization": f"Bearer {token}"}
        acknowledged = await connect(services, context)
        assert "expiresAt" in acknowledged
        assert context.socket is not None
        assert context.socket.account_id == ACCOUNT_IDS[ALEX]
        assert context.connection_params is None
    finally:
        await services.engine.dispose()


async def test_an_idle_stream_keeps_no_principal(seeded_db: Database) -> None:
    """The stream loads the subscriber to start and at each recheck; while it waits for an
    event it holds none (a principal with its grants is about 1.5 KB)."""
    services = build_services(settings_for(seeded_db.url))
    try:
        context = socket_context(services)
        context.connection_params = {"authorization": f"Bearer {token_for(ACCOUNT_IDS[ALEX])}"}
        await connect(services, context)
        context.principal = None  # what connect() loaded: not the stream's to keep
        spec = streams.Spec(EventKind.MESSAGE_RECEIVED, RecordArea.MESSAGES, None, None)
        stream = streams.events(context, spec, "Watch")
        waiting = asyncio.ensure_future(anext(stream))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if len(services.realtime.broker.hub.listeners) == 1:
                break
        await asyncio.sleep(0.05)  # registered; now waiting for an event
        assert not waiting.done()
        frame = cast("types.AsyncGeneratorType[Any, Any]", stream).ag_frame
        assert frame is not None
        kept = [v for v in frame.f_locals.values() if isinstance(v, Principal)]
        assert kept == []
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await stream.aclose()
    finally:
        await services.engine.dispose()
