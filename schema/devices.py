"""Push devices: registerDevice, unregisterDevice, `viewer.devices` (docs/push.md)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from domain.devices import Platform
from schema.base import Node

if TYPE_CHECKING:
    from persistence.devices import StoredDevice

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
