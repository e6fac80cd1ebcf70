"""Push to devices: one sender per platform behind persistence.deliveries.PushSender."""

from __future__ import annotations

import logging
from typing import Protocol

from domain.devices import DeviceAddress, Platform, PushMessage
from persistence.deliveries import LoggingPushSender, PushSender
from runtime.push.apns import ApnsSender
from runtime.push.fcm import FcmSender
from runtime.push.settings import PushSettings, new_vapid_private_key, vapid_public_key
from runtime.push.webpush import WebPushSender

log = logging.getLogger(__name__)


class ClosablePushSender(PushSender, Protocol):
    async def close(self) -> None: ...


class DevicePushSender:
    """Routes each device to its platform's sender; a platform not configured only logs."""

    def __init__(self, senders: dict[Platform, ClosablePushSender], public_key: str) -> None:
        self.senders = senders
        self.public_key = public_key  # the VAPID applicationServerKey browsers subscribe with
        self._fallback = LoggingPushSender()

    async def send_push(self, device: DeviceAddress, message: PushMessage) -> None:
        sender = self.senders.get(device.platform)
        await (sender or self._fallback).send_push(device, message)

    async def close(self) -> None:
        for sender in self.senders.values():
            await sender.close()


def build_push_sender(settings: PushSettings) -> DevicePushSender:
    private_key = settings.vapid_private_key or new_vapid_private_key()
    if settings.vapid_private_key is None:
        log.warning("VAPID_PRIVATE_KEY not set: using a key made for this process (dev only)")
    senders: dict[Platform, ClosablePushSender] = {}
    if settings.enabled:
        senders[Platform.WEB_PUSH] = WebPushSender(
            private_key, settings.vapid_subject, settings.ttl_seconds
        )
        if settings.apns is not None:
            senders[Platform.APNS] = ApnsSender(settings.apns, settings.ttl_seconds)
        if settings.fcm is not None:
            senders[Platform.FCM] = FcmSender(settings.fcm, settings.ttl_seconds)
    return DevicePushSender(senders, vapid_public_key(private_key))
