"""Two-step verification: enableTotp, confirmTotp, disableTotp; their inputs, payloads and
error codes (use cases: usecases/totp.py; rules: domain/totp.py)."""

from __future__ import annotations

from enum import Enum

import strawberry

from resolvers import totp as r
from schema.base import Info
from schema.payloads import UserError, account_action, one_per_request, user_errors
from usecases import totp as uc


@strawberry.enum(description="Why a two-step verification action was refused.")
class TotpErrorCode(Enum):
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    INVALID_TOTP_CODE = "INVALID_TOTP_CODE"
    TOTP_ALREADY_ENABLED = "TOTP_ALREADY_ENABLED"
    TOTP_NOT_PENDING = "TOTP_NOT_PENDING"
    TOTP_NOT_ENABLED = "TOTP_NOT_ENABLED"
    ONE_CREDENTIAL_PER_REQUEST = "ONE_CREDENTIAL_PER_REQUEST"


@strawberry.type
class TotpError(UserError):
    code: TotpErrorCode


@strawberry.input
class EnableTotpInput:
    current_password: str

    def command(self) -> uc.EnableTotp:
        return uc.EnableTotp(self.current_password)


@strawberry.input
class ConfirmTotpInput:
    code: str = strawberry.field(description="The 6-digit code the authenticator app shows.")

    def command(self) -> uc.ConfirmTotp:
        return uc.ConfirmTotp(self.code)


@strawberry.input
class DisableTotpInput:
    code: str | None = strawberry.field(default=None, description="A current 6-digit code.")
    password: str | None = strawberry.field(default=None, description="Or the password.")

    def command(self) -> uc.DisableTotp:
        return uc.DisableTotp(self.code, self.password)


@strawberry.type
class EnableTotpPayload:
    secret: str | None = strawberry.field(
        default=None, description="Base32, for typing into an authenticator app."
    )
    otpauth_uri: str | None = strawberry.field(
        default=None, description="`otpauth://totp/...`, for a QR code."
    )
    errors: list[TotpError] = strawberry.field(default_factory=list)


@strawberry.type
class TotpPayload:
    totp_enabled: bool | None = None
    errors: list[TotpError] = strawberry.field(default_factory=list)


@strawberry.type
class ConfirmTotpPayload(TotpPayload):
    pass


@strawberry.type
class DisableTotpPayload(TotpPayload):
    pass


ERRORS = (TotpError, TotpErrorCode)


@strawberry.type
class TotpMutations:
    @strawberry.mutation(
        description="Start two-step verification: a new authenticator secret, pending until "
        "`confirmTotp`."
    )
    @account_action
    @user_errors(EnableTotpPayload, *ERRORS)
    @one_per_request
    async def enable_totp(self, info: Info, input: EnableTotpInput) -> EnableTotpPayload:
        factor = await r.enable_totp(info.context, input.command())
        return EnableTotpPayload(secret=factor.secret, otpauth_uri=factor.otpauth_uri)

    @strawberry.mutation(
        description="Turn two-step verification on with a code from the app; from then on "
        "`signIn` needs `totpCode`."
    )
    @account_action
    @user_errors(ConfirmTotpPayload, *ERRORS)
    @one_per_request
    async def confirm_totp(self, info: Info, input: ConfirmTotpInput) -> ConfirmTotpPayload:
        await r.confirm_totp(info.context, input.command())
        return ConfirmTotpPayload(totp_enabled=True)

    @strawberry.mutation(description="Turn two-step verification off (a code or the password).")
    @account_action
    @user_errors(DisableTotpPayload, *ERRORS)
    @one_per_request
    async def disable_totp(self, info: Info, input: DisableTotpInput) -> DisableTotpPayload:
        await r.disable_totp(info.context, input.command())
        return DisableTotpPayload(totp_enabled=False)
