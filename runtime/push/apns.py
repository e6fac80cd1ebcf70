"""Apple Push Notification service: HTTP/2 requests (httpx with h2) authenticated by a
provider token (ES256 JWT signed with the team's .p8 key, pyjwt).

Apple's documented request: POST /3/device/<token> with `authorization: bearer <jwt>`,
`apns-topic` (bundle id), `apns-push-type: alert`, `apns-priority`, `apns-expiration`; a 410,
or a 400 whose reason says the token is bad, means the token is gone.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
import jwt

from domain.devices import DeviceAddress, DeviceGone, PushFailed, PushMessage
from runtime.push.settings import ApnsSettings

# Apple refuses tokens older than an hour and too frequent new ones: renew at 50 minutes.
TOKEN_LIFETIME = 50 * 60
GONE_REASONS = {"BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"}


class ApnsSender:
    def __init__(
        self, settings: ApnsSettings, ttl_seconds: int, client: httpx.AsyncClient | None = None
    ) -> None:
        self._settings = settings
        self._ttl = ttl_seconds
        self._client = client or httpx.AsyncClient(http2=True, timeout=10.0)
        self._token: tuple[str, float] | None = None

    def provider_token(self) -> str:
        now = time.time()
        if self._token is None or now - self._token[1] > TOKEN_LIFETIME:
            claims = {"iss": self._settings.team_id, "iat": int(now)}
            token = jwt.encode(
                claims,
                self._settings.key_pem,
                algorithm="ES256",
                headers={"kid": self._settings.key_id},
            )
            self._token = (token, now)
        return self._token[0]

    def request(self, device: DeviceAddress, message: PushMessage) -> httpx.Request:
        body: dict[str, Any] = {
            "aps": {"alert": {"title": message.title, "body": message.body}, "sound": "default"}
        }
        if message.link:
            body["link"] = message.link
        return self._client.build_request(
            "POST",
            f"{self._settings.url}/3/device/{device.address}",
            json=body,
            headers={
                "authorization": f"bearer {self.provider_token()}",
                "apns-topic": self._settings.topic,
                "apns-push-type": "alert",
                "apns-priority": "10",
                "apns-expiration": str(int(time.time()) + self._ttl),
            },
        )

    async def send_push(self, device: DeviceAddress, message: PushMessage) -> None:
        try:
            response = await self._client.send(self.request(device, message))
        except httpx.HTTPError as exc:
            raise PushFailed(f"APNs unreachable: {type(exc).__name__}") from exc
        if response.status_code == 200:
            return
        reason = _reason(response)
        if response.status_code == 410 or reason in GONE_REASONS:
            raise DeviceGone()
        if reason in ("ExpiredProviderToken", "InvalidProviderToken"):
            self._token = None  # a new one next time
        raise PushFailed(f"APNs answered {response.status_code} {reason}", _retry_after(response))

    async def close(self) -> None:
        await self._client.aclose()


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json().get("reason", ""))
    except ValueError:
        return ""


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("retry-after", "")
    return timedelta(seconds=int(value)) if value.isdigit() else None
