"""requestPasswordReset, resetPassword, requestUsernameReminder, changePassword (use cases:
usecases/passwords.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from resolvers.accounts import ports
from usecases import passwords as uc

if TYPE_CHECKING:
    from runtime.context import Context


async def request_password_reset(ctx: Context, command: uc.RequestPasswordReset) -> None:
    await uc.request_password_reset(command, ports(ctx), ctx.audit_account)


async def request_username_reminder(ctx: Context, command: uc.RequestUsernameReminder) -> None:
    await uc.request_username_reminder(command, ports(ctx), ctx.audit_account)


async def reset_password(ctx: Context, token: str, new_password: str) -> None:
    """Made from a session of the same account, the reset keeps that one."""
    caller = ctx.principal.account_id if ctx.principal is not None else None
    command = uc.ResetPassword(token, new_password, caller, ctx.session_id)
    await uc.reset_password(command, ports(ctx), ctx.audit_account)


async def change_password(
    ctx: Context, current_password: str, new_password: str, refresh_token: str | None
) -> None:
    principal = ctx.require_principal()
    command = uc.ChangePassword(current_password, new_password, refresh_token, ctx.session_id)
    await uc.change_password(command, principal, ports(ctx))
