"""enableTotp, confirmTotp, disableTotp: the optional second factor of the signed-in account.

Turning it on takes the password (a stolen access token alone cannot lock the owner out with
a factor of the thief's) and then a code from the app (the owner has really set it up);
turning it off takes a current code or the password. `signIn` checks it
(usecases/sessions.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain import account_mail
from domain import totp as rules
from domain.access import Principal
from domain.accounts import InvalidInput
from domain.identity import InvalidCredentials
from usecases.accounts import Ports, mail
from usecases.passwords import confirm_password
from usecases.sessions import record_attempt, use_totp_code


@dataclass(frozen=True)
class EnableTotp:
    current_password: str


@dataclass(frozen=True)
class ConfirmTotp:
    code: str


@dataclass(frozen=True)
class DisableTotp:
    code: str | None
    password: str | None


@dataclass(frozen=True)
class NewFactor:
    secret: str  # base32, for typing into an authenticator app
    otpauth_uri: str  # for a QR code


async def enable_totp(command: EnableTotp, principal: Principal, ports: Ports) -> NewFactor:
    uow, account_id = ports.uow, principal.account_id
    async with uow:
        factor = await uow.totp.of(account_id)
        account = await uow.accounts.contact(account_id)
        password_hash = await uow.accounts.password_hash(account_id)
    if factor is not None and factor.confirmed:
        raise rules.TotpAlreadyEnabled()
    await confirm_password(ports, account_id, password_hash, command.current_password)
    secret = rules.new_secret()
    async with uow:
        await uow.totp.start(account_id, secret, ports.now)
        await uow.commit()
    return NewFactor(secret, rules.provisioning_uri(secret, account.username))


async def confirm_totp(command: ConfirmTotp, principal: Principal, ports: Ports) -> None:
    uow, now, account_id = ports.uow, ports.now, principal.account_id
    async with uow:
        factor = await uow.totp.of(account_id)
        if factor is None:
            raise rules.TotpNotPending()
        if factor.confirmed:
            raise rules.TotpAlreadyEnabled()
        step = rules.matching_step(factor.secret, command.code, now, factor.last_used_step)
        if step is None or not await uow.totp.use_step(
            account_id, step, factor.last_used_step, confirm_at=now
        ):
            raise rules.InvalidTotpCode()
        account = await uow.accounts.contact(account_id)
        mail(ports, account.email, *account_mail.totp_changed(enabled=True))
        await uow.commit()


async def disable_totp(command: DisableTotp, principal: Principal, ports: Ports) -> None:
    uow, account_id = ports.uow, principal.account_id
    code, password = (command.code or "").strip(), command.password or ""
    if not code and not password:
        raise InvalidInput("Enter a code from your authenticator app, or your password.", "code")
    async with uow:
        factor = await uow.totp.of(account_id)
        account = await uow.accounts.contact(account_id)
        password_hash = await uow.accounts.password_hash(account_id)
    if factor is None or not factor.confirmed:
        raise rules.TotpNotEnabled()
    if code:
        await _confirm_code(ports, account_id, code)
    else:
        await confirm_password(ports, account_id, password_hash, password)
    async with uow:
        await uow.totp.remove(account_id)
        mail(ports, account.email, *account_mail.totp_changed(enabled=False))
        await uow.commit()


async def _confirm_code(ports: Ports, account_id: str, code: str) -> None:
    """Like a password re-entered: a wrong code counts towards the lockout."""
    uow, now = ports.uow, ports.now
    async with uow:
        ok = await use_totp_code(uow, account_id, code, now)
        decision = await record_attempt(uow, ports.lockout, account_id, ok, now, sign_in=False)
        await uow.commit()
    if isinstance(decision.error, InvalidCredentials):
        raise rules.InvalidTotpCode()
    if decision.error is not None:
        raise decision.error
