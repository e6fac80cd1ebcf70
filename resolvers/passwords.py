"""requestPasswordReset, resetPassword, requestUsernameReminder, changePassword.

The two requests answer the same whether or not an account matched (the mail goes only to
the email on file, and at most a few an hour). A reset unlocks the account and ends every
session (but the one it is made from, if any); a change ends every other session.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

from domain import accounts as rules
from domain.errors import DomainError
from domain.identity import InvalidCredentials, InvalidRefreshToken, refresh_problem
from domain.sessions import EndReason
from persistence.accounts import AccountContact
from persistence.lifecycle import mails_to_since
from persistence.mail import enqueue_mail
from persistence.uow import UnitOfWork
from resolvers import account_mail
from resolvers.auth import record_attempt
from resolvers.payloads import account_action, one_per_request, user_errors
from runtime.security import hash_password, hash_refresh_token, verify_password
from schema import accounts as s

if TYPE_CHECKING:
    from schema.base import Info

ERRORS = (s.PasswordError, s.PasswordErrorCode)
RESET_ANSWER = (
    "If an account matches, we sent a message to the email address on file for it. "
    "Check your inbox."
)
REMINDER_ANSWER = (
    "If an account uses this email address, we sent its username there. Check your inbox."
)


@account_action
@user_errors(s.RequestPasswordResetPayload, *ERRORS)
async def request_password_reset(
    info: Info, input: s.RequestPasswordResetInput
) -> s.RequestPasswordResetPayload:
    ctx = info.context
    policy = ctx.services.settings.lifecycle
    value = _required(input.username_or_email, "usernameOrEmail")
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        for account in await uow.accounts.by_username_or_email(value):
            ctx.audit_account(account.account_id)  # for the audit only: the answer is the same
            if await _may_mail(info, uow, account):
                token = rules.new_token()
                await uow.password_resets.create(
                    account.account_id, token, ctx.now, policy.reset_token_ttl
                )
                subject, body = account_mail.password_reset(
                    account.username, token, policy.reset_token_ttl
                )
                _mail(info, uow, account.email, subject, body)
        await uow.commit()
    return s.RequestPasswordResetPayload(accepted=True, message=RESET_ANSWER)


@account_action
@user_errors(s.RequestUsernameReminderPayload, *ERRORS)
async def request_username_reminder(
    info: Info, input: s.RequestUsernameReminderInput
) -> s.RequestUsernameReminderPayload:
    email = _required(input.email, "email")
    uow = UnitOfWork(info.context.services.sessions)
    async with uow:
        accounts = await uow.accounts.by_username_or_email(email) if "@" in email else []
        for account in accounts:  # for the audit only: the answer is the same
            info.context.audit_account(account.account_id)
        if accounts and await _may_mail(info, uow, accounts[0]):
            subject, body = account_mail.username_reminder([a.username for a in accounts])
            _mail(info, uow, accounts[0].email, subject, body)
        await uow.commit()
    return s.RequestUsernameReminderPayload(accepted=True, message=REMINDER_ANSWER)


@account_action
@user_errors(s.ResetPasswordPayload, *ERRORS)
@one_per_request
async def reset_password(info: Info, input: s.ResetPasswordInput) -> s.ResetPasswordPayload:
    ctx = info.context
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        token = await uow.password_resets.by_token(input.token.strip())
        if token is None or token.owner_id is None:
            raise rules.InvalidToken(field="token")
        ctx.audit_account(token.owner_id)
        _refuse(rules.token_problem(token.state, ctx.now))
        account = await uow.accounts.contact(token.owner_id)
        old_hash = await uow.accounts.password_hash(account.account_id)
    rules.check_new_password(input.new_password, account.username, "newPassword")
    new_hash = await asyncio.to_thread(hash_password, input.new_password)
    async with uow:
        if not await uow.password_resets.use(token.id, ctx.now):
            raise rules.InvalidToken(field="token")  # used by a concurrent request
        if not await uow.accounts.replace_password(
            account.account_id, old_hash, new_hash, unlock=True
        ):
            raise rules.InvalidToken(field="token")  # the password changed meanwhile
        await uow.sessions.end_all(
            account.account_id, ctx.now, EndReason.PASSWORD_RESET, _own_session(info, account)
        )
        _mail(info, uow, account.email, *account_mail.password_changed())
        await uow.commit()
    return s.ResetPasswordPayload(ok=True)


@account_action
@user_errors(s.ChangePasswordPayload, *ERRORS)
@one_per_request
async def change_password(info: Info, input: s.ChangePasswordInput) -> s.ChangePasswordPayload:
    ctx = info.context
    account_id = ctx.require_principal().account_id
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        account = await uow.accounts.contact(account_id)
        old_hash = await uow.accounts.password_hash(account_id)
        # The session this change is made from goes on; every other one ends.
        keep = await _own_family(uow, account_id, input.refresh_token, info) or ctx.session_id
    rules.check_new_password(input.new_password, account.username, "newPassword")
    if input.new_password == input.current_password:
        raise rules.SamePassword()
    await confirm_password(info, uow, account_id, old_hash, input.current_password)
    new_hash = await asyncio.to_thread(hash_password, input.new_password)
    async with uow:
        if not await uow.accounts.replace_password(account_id, old_hash, new_hash, unlock=False):
            raise InvalidCredentials(field="currentPassword")  # changed meanwhile
        await uow.sessions.end_all(account_id, ctx.now, EndReason.PASSWORD_CHANGED, keep)
        _mail(info, uow, account.email, *account_mail.password_changed())
        await uow.commit()
    return s.ChangePasswordPayload(ok=True)


# -- the steps -----------------------------------------------------------------------------------
async def confirm_password(
    info: Info, uow: UnitOfWork, account_id: str, password_hash: str, password: str
) -> None:
    """A signed-in account re-enters its password: wrong ones count towards the lockout."""
    ok = await asyncio.to_thread(verify_password, password_hash, password)
    async with uow:
        decision = await record_attempt(
            uow, info.context.services, account_id, ok, info.context.now, sign_in=False
        )
        await uow.commit()
    if decision.error is not None:
        # While locked the answer must not depend on the password, its field included.
        decision.error.field = "currentPassword" if not ok and not decision.locked else None
        raise decision.error


async def _own_family(
    uow: UnitOfWork, account_id: str, refresh_token: str | None, info: Info
) -> str | None:
    if refresh_token is None:
        return None
    row = await uow.refresh_tokens.by_hash(hash_refresh_token(refresh_token))
    if row is None or row.account_id != account_id:
        raise InvalidRefreshToken(field="refreshToken")
    if refresh_problem(row.state, info.context.now) is not None:
        raise InvalidRefreshToken(field="refreshToken")
    return row.family_id


def _own_session(info: Info, account: AccountContact) -> str | None:
    """A reset made from a session of the same account keeps that one; any other ends."""
    ctx = info.context
    signed_in = ctx.principal is not None and ctx.principal.account_id == account.account_id
    return ctx.session_id if signed_in else None


def _required(value: str, field: str) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > 320:
        raise rules.InvalidInput("Enter your username or email address.", field)
    return cleaned


def _refuse(problem: DomainError | None) -> None:
    if problem is not None:
        raise problem


async def _may_mail(info: Info, uow: UnitOfWork, account: AccountContact) -> bool:
    since = info.context.now - timedelta(hours=1)
    recent = await mails_to_since(uow.session, account.email, since)
    return rules.may_send_another(recent, info.context.services.settings.lifecycle)


def _mail(info: Info, uow: UnitOfWork, to: str, subject: str, body: str) -> None:
    enqueue_mail(uow.session, to=to, subject=subject, body=body, now=info.context.now)
