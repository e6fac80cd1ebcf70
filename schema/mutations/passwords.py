"""Passwords and usernames: requestPasswordReset, resetPassword, requestUsernameReminder,
changePassword; their inputs, payloads and error codes (use cases: usecases/passwords.py)."""

from __future__ import annotations

from enum import Enum

import strawberry

from resolvers import passwords as r
from schema.base import Info
from schema.payloads import UserError, account_action, one_per_request, user_errors
from usecases import passwords as uc

RESET_ANSWER = (
    "If an account matches, we sent a message to the email address on file for it. "
    "Check your inbox."
)
REMINDER_ANSWER = (
    "If an account uses this email address, we sent its username there. Check your inbox."
)


@strawberry.enum(description="Why a password action was refused (nothing was changed).")
class PasswordErrorCode(Enum):
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    WEAK_PASSWORD = "WEAK_PASSWORD"  # noqa: S105 (an error code)
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105 (an error code)
    TOKEN_EXPIRED = "TOKEN_EXPIRED"  # noqa: S105 (an error code)
    INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"  # noqa: S105 (an error code)
    ONE_CREDENTIAL_PER_REQUEST = "ONE_CREDENTIAL_PER_REQUEST"


@strawberry.type
class PasswordError(UserError):
    code: PasswordErrorCode


@strawberry.input
class RequestPasswordResetInput:
    username_or_email: str

    def command(self) -> uc.RequestPasswordReset:
        return uc.RequestPasswordReset(self.username_or_email)


@strawberry.input
class ResetPasswordInput:
    token: str = strawberry.field(description="From the reset mail.")
    new_password: str


@strawberry.input
class RequestUsernameReminderInput:
    email: str

    def command(self) -> uc.RequestUsernameReminder:
        return uc.RequestUsernameReminder(self.email)


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str
    refresh_token: str | None = strawberry.field(
        default=None,
        description="This session's refresh token: it stays signed in. Without it every "
        "session ends (access tokens already issued run out within minutes).",
    )


@strawberry.type(
    description="The same answer whether or not an account matched; mail goes only to the "
    "email address on file."
)
class AcceptedPayload:
    accepted: bool = False
    message: str | None = None
    errors: list[PasswordError] = strawberry.field(default_factory=list)


@strawberry.type
class RequestPasswordResetPayload(AcceptedPayload):
    pass


@strawberry.type
class RequestUsernameReminderPayload(AcceptedPayload):
    pass


@strawberry.type
class ResetPasswordPayload:
    ok: bool = False
    errors: list[PasswordError] = strawberry.field(default_factory=list)


@strawberry.type
class ChangePasswordPayload:
    ok: bool = False
    errors: list[PasswordError] = strawberry.field(default_factory=list)


ERRORS = (PasswordError, PasswordErrorCode)


@strawberry.type
class PasswordMutations:
    @strawberry.mutation(
        description="Mail a single-use reset token to the email on file of the account with "
        "this username or email. The same answer whether or not one exists."
    )
    @account_action
    @user_errors(RequestPasswordResetPayload, *ERRORS)
    async def request_password_reset(
        self, info: Info, input: RequestPasswordResetInput
    ) -> RequestPasswordResetPayload:
        await r.request_password_reset(info.context, input.command())
        return RequestPasswordResetPayload(accepted=True, message=RESET_ANSWER)

    @strawberry.mutation(
        description="Choose a new password with a reset token: unlocks the account and ends "
        "every session (but the one this request is made in, if it is that account's)."
    )
    @account_action
    @user_errors(ResetPasswordPayload, *ERRORS)
    @one_per_request
    async def reset_password(self, info: Info, input: ResetPasswordInput) -> ResetPasswordPayload:
        await r.reset_password(info.context, input.token, input.new_password)
        return ResetPasswordPayload(ok=True)

    @strawberry.mutation(
        description="Mail the username to this address if an account uses it. The same "
        "answer whether or not one does."
    )
    @account_action
    @user_errors(RequestUsernameReminderPayload, *ERRORS)
    async def request_username_reminder(
        self, info: Info, input: RequestUsernameReminderInput
    ) -> RequestUsernameReminderPayload:
        await r.request_username_reminder(info.context, input.command())
        return RequestUsernameReminderPayload(accepted=True, message=REMINDER_ANSWER)

    @strawberry.mutation(
        description="Change the signed-in account's password; ends its other sessions."
    )
    @account_action
    @user_errors(ChangePasswordPayload, *ERRORS)
    @one_per_request
    async def change_password(
        self, info: Info, input: ChangePasswordInput
    ) -> ChangePasswordPayload:
        await r.change_password(
            info.context, input.current_password, input.new_password, input.refresh_token
        )
        return ChangePasswordPayload(ok=True)
