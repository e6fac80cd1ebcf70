"""Push devices: registerDevice, unregisterDevice, `viewer.devices` (docs/push.md)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from domain.devices import Platform
from persistence.devices import StoredDevice
from schema.base import Node
from schema.payloads import UserError

DevicePlatform = strawberry.enum(
    Platform,
    name="DevicePlatform",
    description="WEB_PUSH: a browser's push subscription; APNS, FCM: a phone app's token.",
)


@strawberry.type(description="A browser or phone that gets push notifications for the account.")
class Device(Node):
    platform: DevicePlatform  # type: ignore[valid-type]
    name: str
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="When a push last reached it (null: never yet)."
    )
    internal_id: strawberry.Private[str]

    def node_id(self) -> str:
        return self.internal_id

    @classmethod
    def from_stored(cls, device: StoredDevice) -> Device:
        return cls(
            platform=device.platform,
            name=device.name,
            created_at=device.created_at,
            last_used_at=device.last_used_at,
            internal_id=device.id,
        )


@strawberry.enum
class DeviceErrorCode(Enum):
    INVALID_DEVICE = "INVALID_DEVICE"
    DEVICE_NOT_FOUND = "DEVICE_NOT_FOUND"
    TOO_MANY_DEVICES = "TOO_MANY_DEVICES"


@strawberry.type
class DeviceError(UserError):
    code: DeviceErrorCode


@strawberry.input(
    description="WEB_PUSH: `endpoint`, `p256dh` and `auth` from the browser's "
    "PushSubscription (subscribed with `webPushPublicKey`); APNS and FCM: `token`."
)
class RegisterDeviceInput:
    platform: DevicePlatform  # type: ignore[valid-type]
    name: str = strawberry.field(description="How the account holder recognizes it.")
    endpoint: str | None = None
    p256dh: str | None = None
    auth: str | None = None
    token: str | None = None


@strawberry.input
class UnregisterDeviceInput:
    id: strawberry.ID


@strawberry.type
class RegisterDevicePayload:
    device: Device | None = None
    errors: list[DeviceError] = strawberry.field(default_factory=list)


@strawberry.type
class UnregisterDevicePayload:
    ok: bool = False
    errors: list[DeviceError] = strawberry.field(default_factory=list)
