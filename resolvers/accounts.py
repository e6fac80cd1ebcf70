"""activateAccount, signUpWithoutCode, verifySignUp (use cases: usecases/accounts.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from persistence.uow import UnitOfWork
from resolvers.sessions import issuing, now_signed_in
from usecases import accounts as uc
from usecases.sessions import SignedIn

if TYPE_CHECKING:
    from runtime.context import Context


def ports(ctx: Context) -> uc.Ports:
    """The ports of the account family's writes (accounts, passwords, totp, contact)."""
    settings = ctx.services.settings
    return uc.Ports(
        UnitOfWork(ctx.services.sessions), settings.lifecycle, settings.lockout, ctx.now
    )


async def activate_account(ctx: Context, command: uc.ActivateAccount) -> SignedIn:
    return now_signed_in(ctx, await uc.activate_account(command, ports(ctx), issuing(ctx)))


async def sign_up_without_code(ctx: Context, command: uc.SignUpWithoutCode) -> str:
    return await uc.sign_up_without_code(command, ports(ctx), ctx.audit_account)


async def verify_sign_up(ctx: Context, command: uc.VerifySignUp) -> SignedIn:
    return now_signed_in(ctx, await uc.verify_sign_up(command, ports(ctx), issuing(ctx)))
