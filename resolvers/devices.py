"""registerDevice, unregisterDevice and `viewer.devices`: the signed-in account's own only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from persistence.uow import UnitOfWork
from resolvers.payloads import account_action, user_errors
from schema import devices as s
from schema.base import internal_id
from usecases import devices as uc

if TYPE_CHECKING:
    from schema.base import Info

ERRORS = (s.DeviceError, s.DeviceErrorCode)


@account_action
@user_errors(s.RegisterDevicePayload, *ERRORS)
async def register_device(info: Info, input: s.RegisterDeviceInput) -> s.RegisterDevicePayload:
    ctx = info.context
    command = uc.RegisterDevice(
        input.platform, input.name, input.endpoint, input.p256dh, input.auth, input.token
    )
    device = await uc.register_device(
        command,
        ctx.require_principal(),
        UnitOfWork(ctx.services.sessions),
        ctx.now,
        allow_http=ctx.services.settings.push.allow_http_endpoints,
    )
    return s.RegisterDevicePayload(device=s.Device.from_stored(device))


@account_action
@user_errors(s.UnregisterDevicePayload, *ERRORS)
async def unregister_device(
    info: Info, input: s.UnregisterDeviceInput
) -> s.UnregisterDevicePayload:
    ctx = info.context
    principal = ctx.require_principal()
    command = uc.UnregisterDevice(internal_id(input.id, "Device"))
    await uc.unregister_device(command, principal, UnitOfWork(ctx.services.sessions), ctx.now)
    return s.UnregisterDevicePayload(ok=True)


async def devices(info: Info) -> list[s.Device]:
    account_id = info.context.require_principal().account_id
    stored = await info.context.loaders.devices.get(account_id)
    return [s.Device.from_stored(d) for d in stored or []]


def web_push_public_key(info: Info) -> str:
    return info.context.services.push.public_key
