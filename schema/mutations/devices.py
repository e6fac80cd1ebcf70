"""Push devices of the signed-in account: registerDevice, unregisterDevice; their inputs,
payloads and error codes (use cases: usecases/devices.py; rules: domain/devices.py;
docs/push.md)."""

from __future__ import annotations

from enum import Enum

import strawberry

from resolvers import devices as r
from schema.base import Info, internal_id
from schema.devices import Device, DevicePlatform
from schema.payloads import UserError, account_action, user_errors
from usecases import devices as uc


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

    def command(self) -> uc.RegisterDevice:
        return uc.RegisterDevice(
            self.platform, self.name, self.endpoint, self.p256dh, self.auth, self.token
        )


@strawberry.input
class UnregisterDeviceInput:
    id: strawberry.ID

    def command(self) -> uc.UnregisterDevice:
        return uc.UnregisterDevice(internal_id(self.id, "Device"))


@strawberry.type
class RegisterDevicePayload:
    device: Device | None = None
    errors: list[DeviceError] = strawberry.field(default_factory=list)


@strawberry.type
class UnregisterDevicePayload:
    ok: bool = False
    errors: list[DeviceError] = strawberry.field(default_factory=list)


ERRORS = (DeviceError, DeviceErrorCode)


@strawberry.type
class DeviceMutations:
    @strawberry.mutation(
        description="Register this browser (Web Push subscription) or phone (APNs/FCM token) "
        "for the viewer's push notifications. Registering a device again updates it; a device "
        "registered by another account moves to this one. Pushes say only that something new "
        "is waiting, with an opaque link to open."
    )
    @account_action
    @user_errors(RegisterDevicePayload, *ERRORS)
    async def register_device(
        self, info: Info, input: RegisterDeviceInput
    ) -> RegisterDevicePayload:
        device = await r.register_device(info.context, input.command())
        return RegisterDevicePayload(device=Device.from_stored(device))

    @strawberry.mutation(description="Stop pushing to one of the viewer's devices.")
    @account_action
    @user_errors(UnregisterDevicePayload, *ERRORS)
    async def unregister_device(
        self, info: Info, input: UnregisterDeviceInput
    ) -> UnregisterDevicePayload:
        await r.unregister_device(info.context, input.command())
        return UnregisterDevicePayload(ok=True)
