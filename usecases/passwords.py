"""requestPasswordReset, resetPassword, requestUsernameReminder, changePassword, and a
password re-entered to confirm an account change.

The two requests answer the same whether or not an account matched (the mail goes only to
the email on file, and at most a few an hour). A reset unlocks the account and ends every
session (but the one it is made from, if any); a change ends every other session.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from domain import account_mail
from domain import accounts as rules
from domain.access import Principal
from domain.identity import InvalidCredentials, InvalidRefreshToken, refresh_problem
from domain.sessions import EndReason
from persistence.accounts import AccountContact
from persistence.lifecycle import mails_to_since
from runtime.security import hash_password, hash_refresh_token, verify_password
from usecases.accounts import Ports, mail, refuse
from usecases.sessions import NoteAccount, record_attempt


@dataclass(frozen=True)
class RequestPasswordReset:
    username_or_email: str


@dataclass(frozen=True)
class RequestUsernameReminder:
    email: str


@dataclass(frozen=True)
class ResetPassword:
    token: str
    new_password: str
    # The request's own account and session, if signed in: a reset of that same account
    # keeps that session; every other one ends.
    caller_account_id: str | None = None
    caller_session_id: str | None = None


@dataclass(frozen=True)
class ChangePassword:
    current_password: str
    new_password: str
    refresh_token: str | None  # the session that stays signed in
    current_session_id: str | None  # else the session of the access token, if any


async def request_password_reset(
    command: RequestPasswordReset, ports: Ports, note: NoteAccount
) -> None:
    uow, now, ttl = ports.uow, ports.now, ports.lifecycle.reset_token_ttl
    value = _required(command.username_or_email, "usernameOrEmail")
    async with uow:
        for account in await uow.accounts.by_username_or_email(value):
            note(account.account_id)  # for the audit only: the answer is the same
            if await _may_mail(ports, account):
                token = rules.new_token()
                await uow.password_resets.create(account.account_id, token, now, ttl)
                subject, body = account_mail.password_reset(account.username, token, ttl)
                mail(ports, account.email, subject, body)
        await uow.commit()


async def request_username_reminder(
    command: RequestUsernameReminder, ports: Ports, note: NoteAccount
) -> None:
    uow = ports.uow
    email = _required(command.email, "email")
    async with uow:
        accounts = await uow.accounts.by_username_or_email(email) if "@" in email else []
        for account in accounts:  # for the audit only: the answer is the same
            note(account.account_id)
        if accounts and await _may_mail(ports, accounts[0]):
            subject, body = account_mail.username_reminder([a.username for a in accounts])
            mail(ports, accounts[0].email, subject, body)
        await uow.commit()


async def reset_password(command: ResetPassword, ports: Ports, note: NoteAccount) -> None:
    uow, now = ports.uow, ports.now
    async with uow:
        token = await uow.password_resets.by_token(command.token.strip())
        if token is None or token.owner_id is None:
            raise rules.InvalidToken(field="token")
        note(token.owner_id)
        refuse(rules.token_problem(token.state, now))
        account = await uow.accounts.contact(token.owner_id)
        old_hash = await uow.accounts.password_hash(account.account_id)
    rules.check_new_password(command.new_password, account.username, "newPassword")
    new_hash = await asyncio.to_thread(hash_password, command.new_password)
    own = command.caller_account_id == account.account_id
    keep = command.caller_session_id if own else None
    async with uow:
        if not await uow.password_resets.use(token.id, now):
            raise rules.InvalidToken(field="token")  # used by a concurrent request
        if not await uow.accounts.replace_password(
            account.account_id, old_hash, new_hash, unlock=True
        ):
            raise rules.InvalidToken(field="token")  # the password changed meanwhile
        await uow.sessions.end_all(account.account_id, now, EndReason.PASSWORD_RESET, keep)
        mail(ports, account.email, *account_mail.password_changed())
        await uow.commit()


async def change_password(command: ChangePassword, principal: Principal, ports: Ports) -> None:
    uow, now = ports.uow, ports.now
    account_id = principal.account_id
    async with uow:
        account = await uow.accounts.contact(account_id)
        old_hash = await uow.accounts.password_hash(account_id)
        # The session this change is made from goes on; every other one ends.
        family = await _own_family(ports, account_id, command.refresh_token)
        keep = family or command.current_session_id
    rules.check_new_password(command.new_password, account.username, "newPassword")
    if command.new_password == command.current_password:
        raise rules.SamePassword()
    await confirm_password(ports, account_id, old_hash, command.current_password)
    new_hash = await asyncio.to_thread(hash_password, command.new_password)
    async with uow:
        if not await uow.accounts.replace_password(account_id, old_hash, new_hash, unlock=False):
            raise InvalidCredentials(field="currentPassword")  # changed meanwhile
        await uow.sessions.end_all(account_id, now, EndReason.PASSWORD_CHANGED, keep)
        mail(ports, account.email, *account_mail.password_changed())
        await uow.commit()


# -- the steps -----------------------------------------------------------------------------------
async def confirm_password(
    ports: Ports, account_id: str, password_hash: str, password: str
) -> None:
    """A signed-in account re-enters its password: wrong ones count towards the lockout."""
    uow = ports.uow
    ok = await asyncio.to_thread(verify_password, password_hash, password)
    async with uow:
        decision = await record_attempt(
            uow, ports.lockout, account_id, ok, ports.now, sign_in=False
        )
        await uow.commit()
    if decision.error is not None:
        # While locked the answer must not depend on the password, its field included.
        decision.error.field = "currentPassword" if not ok and not decision.locked else None
        raise decision.error


async def _own_family(ports: Ports, account_id: str, refresh_token: str | None) -> str | None:
    if refresh_token is None:
        return None
    row = await ports.uow.refresh_tokens.by_hash(hash_refresh_token(refresh_token))
    if row is None or row.account_id != account_id:
        raise InvalidRefreshToken(field="refreshToken")
    if refresh_problem(row.state, ports.now) is not None:
        raise InvalidRefreshToken(field="refreshToken")
    return row.family_id


def _required(value: str, field: str) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > 320:
        raise rules.InvalidInput("Enter your username or email address.", field)
    return cleaned


async def _may_mail(ports: Ports, account: AccountContact) -> bool:
    since = ports.now - timedelta(hours=1)
    recent = await mails_to_since(ports.uow.session, account.email, since)
    return rules.may_send_another(recent, ports.lifecycle)
