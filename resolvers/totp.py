"""enableTotp, confirmTotp, disableTotp (use cases: usecases/totp.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from resolvers.accounts import ports
from usecases import totp as uc

if TYPE_CHECKING:
    from runtime.context import Context


async def enable_totp(ctx: Context, command: uc.EnableTotp) -> uc.NewFactor:
    return await uc.enable_totp(command, ctx.require_principal(), ports(ctx))


async def confirm_totp(ctx: Context, command: uc.ConfirmTotp) -> None:
    await uc.confirm_totp(command, ctx.require_principal(), ports(ctx))


async def disable_totp(ctx: Context, command: uc.DisableTotp) -> None:
    await uc.disable_totp(command, ctx.require_principal(), ports(ctx))
