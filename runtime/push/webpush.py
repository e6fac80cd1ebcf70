"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291),
through pywebpush: the encryption and the signature are the library's, not ours."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import aiohttp
import orjson
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async

from domain.devices import DeviceAddress, DeviceGone, PushFailed, PushMessage

log = logging.getLogger(__name__)
GONE = (404, 410)  # RFC 8030 section 7.3: the subscription expired or was removed


def _retry_after(exc: WebPushException) -> timedelta | None:
    value = exc.retry_after
    return timedelta(seconds=int(value)) if value and str(value).isdigit() else None


class WebPushSender:
    def __init__(
        self, private_key: str, subject: str, ttl_seconds: int, timeout: float = 10.0
    ) -> None:
        self._vapid = Vapid.from_string(private_key)
        self._subject = subject
        self._ttl = ttl_seconds
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def send_push(self, device: DeviceAddress, message: PushMessage) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        subscription: dict[str, Any] = {
            "endpoint": device.address,
            "keys": {"p256dh": device.p256dh, "auth": device.auth},
        }
        try:
            await webpush_async(
                subscription,
                data=orjson.dumps(message.as_dict()).decode(),
                vapid_private_key=self._vapid,
                # A fresh dict each time: the library fills in aud and exp.
                vapid_claims={"sub": self._subject},
                content_encoding="aes128gcm",
                ttl=self._ttl,
                timeout=self._timeout,
                aiohttp_session=self._session,
            )
        except WebPushException as exc:
            if exc.status_code in GONE:
                raise DeviceGone() from exc
            raise PushFailed(f"push service answered {exc.status_code}", _retry_after(exc)) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PushFailed(f"push service unreachable: {type(exc).__name__}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
