"""Firebase Cloud Messaging, HTTP v1 API: an OAuth 2 access token from a service account
(google-auth, refreshed in a thread: its transport is synchronous), then one POST per token.

An UNREGISTERED error (404), or INVALID_ARGUMENT about the token, means the token is gone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from domain.devices import DeviceAddress, DeviceGone, PushFailed, PushMessage
from runtime.push.apns import _retry_after
from runtime.push.settings import FcmSettings

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


class FcmSender:
    def __init__(
        self, settings: FcmSettings, ttl_seconds: int, client: httpx.AsyncClient | None = None
    ) -> None:
        self._settings = settings
        self._ttl = ttl_seconds
        self._client = client or httpx.AsyncClient(timeout=10.0)
        self._credentials: Any = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            settings.credentials_file, scopes=[SCOPE]
        )
        self._refreshing = asyncio.Lock()

    async def access_token(self) -> str:
        async with self._refreshing:
            if not self._credentials.valid:
                await asyncio.to_thread(self._credentials.refresh, Request())
            return str(self._credentials.token)

    async def request(self, device: DeviceAddress, message: PushMessage) -> httpx.Request:
        body: dict[str, Any] = {
            "message": {
                "token": device.address,
                "notification": {"title": message.title, "body": message.body},
                "data": {"link": message.link} if message.link else {},
                "android": {"ttl": f"{self._ttl}s", "priority": "HIGH"},
            }
        }
        return self._client.build_request(
            "POST",
            f"{self._settings.url}/v1/projects/{self._settings.project_id}/messages:send",
            json=body,
            headers={"authorization": f"Bearer {await self.access_token()}"},
        )

    async def send_push(self, device: DeviceAddress, message: PushMessage) -> None:
        try:
            response = await self._client.send(await self.request(device, message))
        except httpx.HTTPError as exc:
            raise PushFailed(f"FCM unreachable: {type(exc).__name__}") from exc
        if response.status_code == 200:
            return
        if _token_gone(response):
            raise DeviceGone()
        if response.status_code == 401:
            self._credentials.token = None  # refreshed before the next try
        raise PushFailed(f"FCM answered {response.status_code}", _retry_after(response))

    async def close(self) -> None:
        await self._client.aclose()


def _token_gone(response: httpx.Response) -> bool:
    try:
        error = response.json().get("error", {})
    except ValueError:
        return False
    codes = {d.get("errorCode") for d in error.get("details", []) if isinstance(d, dict)}
    if response.status_code == 404 or "UNREGISTERED" in codes:
        return True
    # A malformed or foreign token: the request names the token field as the fault.
    violations = [
        v.get("field")
        for d in error.get("details", [])
        if isinstance(d, dict)
        for v in d.get("fieldViolations", [])
    ]
    return error.get("status") == "INVALID_ARGUMENT" and "message.token" in violations
