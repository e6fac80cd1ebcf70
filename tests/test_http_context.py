"""portal/app.py PortalGraphQL.get_context: the HTTP view's context, for HTTP only
(WebSockets make theirs in portal/sockets.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.websockets import WebSocket

from domain.errors import BrokenInvariant
from portal.app import PortalGraphQL
from runtime.services import build_services
from tests.conftest import settings_for


async def test_a_websocket_handed_to_the_http_view_is_a_wiring_fault(tmp_path: Path) -> None:
    services = build_services(settings_for(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"))
    scope = {"type": "websocket", "path": "/graphql", "headers": [], "state": {}}

    async def never() -> dict[str, object]:
        raise AssertionError("nothing is received")

    async def unsent(_message: object) -> None:
        raise AssertionError("nothing is sent")

    socket = WebSocket(scope, never, unsent)
    try:
        with pytest.raises(BrokenInvariant):
            await PortalGraphQL(services).get_context(socket, socket)
    finally:
        await services.engine.dispose()
