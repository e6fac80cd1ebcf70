"""Push devices of the signed-in account (rules: domain/devices.py; docs/push.md)."""

from __future__ import annotations

import strawberry

from resolvers import devices as r
from schema import devices as s
from schema.base import Info


@strawberry.type
class DeviceMutations:
    @strawberry.mutation(
        description="Register this browser (Web Push subscription) or phone (APNs/FCM token) "
        "for the viewer's push notifications. Registering a device again updates it; a device "
        "registered by another account moves to this one. Pushes say only that something new "
        "is waiting, with an opaque link to open."
    )
    async def register_device(
        self, info: Info, input: s.RegisterDeviceInput
    ) -> s.RegisterDevicePayload:
        return await r.register_device(info, input)

    @strawberry.mutation(description="Stop pushing to one of the viewer's devices.")
    async def unregister_device(
        self, info: Info, input: s.UnregisterDeviceInput
    ) -> s.UnregisterDevicePayload:
        return await r.unregister_device(info, input)
