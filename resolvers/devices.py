"""registerDevice, unregisterDevice, `viewer.devices` and `webPushPublicKey`: the
signed-in account's own devices only (use cases: usecases/devices.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from persistence.uow import UnitOfWork
from usecases import devices as uc

if TYPE_CHECKING:
    from persistence.devices import StoredDevice
    from runtime.context import Context


async def register_device(ctx: Context, command: uc.RegisterDevice) -> StoredDevice:
    return await uc.register_device(
        command,
        ctx.require_principal(),
        UnitOfWork(ctx.services.sessions),
        ctx.now,
        allow_http=ctx.services.settings.push.allow_http_endpoints,
    )


async def unregister_device(ctx: Context, command: uc.UnregisterDevice) -> None:
    principal = ctx.require_principal()
    await uc.unregister_device(command, principal, UnitOfWork(ctx.services.sessions), ctx.now)


async def devices(ctx: Context) -> list[StoredDevice]:
    account_id = ctx.require_principal().account_id
    return list(await ctx.loaders.devices.get(account_id) or [])


def web_push_public_key(ctx: Context) -> str:
    return ctx.services.push.public_key
