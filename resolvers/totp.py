"""enableTotp, confirmTotp, disableTotp: the optional second factor of the signed-in account.

Turning it on takes the password (a stolen access token alone cannot lock the owner out with
a factor of the thief's) and then a code from the app (the owner has really set it up);
turning it off takes a current code or the password. `signIn` checks it (resolvers/auth.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import totp as rules
from domain.accounts import InvalidInput
from domain.identity import InvalidCredentials
from persistence.mail import enqueue_mail
from persistence.uow import UnitOfWork
from resolvers import account_mail
from resolvers.auth import record_attempt, use_totp_code
from resolvers.passwords import confirm_password
from resolvers.payloads import account_action, one_per_request, user_errors
from schema import accounts as s

if TYPE_CHECKING:
    from schema.base import Info

ERRORS = (s.TotpError, s.TotpErrorCode)


@account_action
@user_errors(s.EnableTotpPayload, *ERRORS)
@one_per_request
async def enable_totp(info: Info, input: s.EnableTotpInput) -> s.EnableTotpPayload:
    ctx = info.context
    account_id = ctx.require_principal().account_id
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        factor = await uow.totp.of(account_id)
        account = await uow.accounts.contact(account_id)
        password_hash = await uow.accounts.password_hash(account_id)
    if factor is not None and factor.confirmed:
        raise rules.TotpAlreadyEnabled()
    await confirm_password(info, uow, account_id, password_hash, input.current_password)
    secret = rules.new_secret()
    async with uow:
        await uow.totp.start(account_id, secret, ctx.now)
        await uow.commit()
    return s.EnableTotpPayload(
        secret=secret, otpauth_uri=rules.provisioning_uri(secret, account.username)
    )


@account_action
@user_errors(s.ConfirmTotpPayload, *ERRORS)
@one_per_request
async def confirm_totp(info: Info, input: s.ConfirmTotpInput) -> s.ConfirmTotpPayload:
    ctx = info.context
    account_id = ctx.require_principal().account_id
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        factor = await uow.totp.of(account_id)
        if factor is None:
            raise rules.TotpNotPending()
        if factor.confirmed:
            raise rules.TotpAlreadyEnabled()
        step = rules.matching_step(factor.secret, input.code, ctx.now, factor.last_used_step)
        if step is None or not await uow.totp.use_step(
            account_id, step, factor.last_used_step, confirm_at=ctx.now
        ):
            raise rules.InvalidTotpCode()
        account = await uow.accounts.contact(account_id)
        _mail(info, uow, account.email, *account_mail.totp_changed(enabled=True))
        await uow.commit()
    return s.ConfirmTotpPayload(totp_enabled=True)


@account_action
@user_errors(s.DisableTotpPayload, *ERRORS)
@one_per_request
async def disable_totp(info: Info, input: s.DisableTotpInput) -> s.DisableTotpPayload:
    ctx = info.context
    account_id = ctx.require_principal().account_id
    code, password = (input.code or "").strip(), input.password or ""
    if not code and not password:
        raise InvalidInput("Enter a code from your authenticator app, or your password.", "code")
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        factor = await uow.totp.of(account_id)
        account = await uow.accounts.contact(account_id)
        password_hash = await uow.accounts.password_hash(account_id)
    if factor is None or not factor.confirmed:
        raise rules.TotpNotEnabled()
    if code:
        await _confirm_code(info, uow, account_id, code)
    else:
        await confirm_password(info, uow, account_id, password_hash, password)
    async with uow:
        await uow.totp.remove(account_id)
        _mail(info, uow, account.email, *account_mail.totp_changed(enabled=False))
        await uow.commit()
    return s.DisableTotpPayload(totp_enabled=False)


async def _confirm_code(info: Info, uow: UnitOfWork, account_id: str, code: str) -> None:
    """Like a password re-entered: a wrong code counts towards the lockout."""
    ctx = info.context
    async with uow:
        ok = await use_totp_code(uow, account_id, code, ctx.now)
        decision = await record_attempt(uow, ctx.services, account_id, ok, ctx.now, sign_in=False)
        await uow.commit()
    if isinstance(decision.error, InvalidCredentials):
        raise rules.InvalidTotpCode()
    if decision.error is not None:
        raise decision.error


def _mail(info: Info, uow: UnitOfWork, to: str, subject: str, body: str) -> None:
    enqueue_mail(uow.session, to=to, subject=subject, body=body, now=info.context.now)
