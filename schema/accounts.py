"""The account lifecycle: creating an account, passwords, two-step verification, contact
details. Inputs, payloads and their error codes (rules: domain/accounts.py, domain/totp.py,
domain/contact.py)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.payloads import UserError
from schema.viewer import Viewer

if TYPE_CHECKING:
    from schema.patient import Patient

PatientRef = Annotated["Patient", strawberry.lazy("schema.patient")]


# -- creating an account ------------------------------------------------------------------------
@strawberry.enum(description="Why an account could not be created (nothing was changed).")
class SignUpErrorCode(Enum):
    INVALID_CODE = "INVALID_CODE"
    CODE_EXPIRED = "CODE_EXPIRED"
    CODE_USED = "CODE_USED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    INVALID_USERNAME = "INVALID_USERNAME"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    WEAK_PASSWORD = "WEAK_PASSWORD"  # noqa: S105 (an error code)
    EMAIL_NOT_ON_FILE = "EMAIL_NOT_ON_FILE"
    EMAIL_IN_USE = "EMAIL_IN_USE"
    ALREADY_HAS_ACCOUNT = "ALREADY_HAS_ACCOUNT"
    NAME_REQUIRED = "NAME_REQUIRED"
    MRN_OR_EMAIL_REQUIRED = "MRN_OR_EMAIL_REQUIRED"
    INVALID_EMAIL = "INVALID_EMAIL"
    ONE_CREDENTIAL_PER_REQUEST = "ONE_CREDENTIAL_PER_REQUEST"


@strawberry.type
class SignUpError(UserError):
    code: SignUpErrorCode


@strawberry.input
class ActivateAccountInput:
    activation_code: str = strawberry.field(description="From the clinic, e.g. `ABCD-EFGH-JKMN`.")
    birth_date: date
    username: str
    password: str


@strawberry.input
class SignUpWithoutCodeInput:
    given_name: str
    family_name: str
    birth_date: date
    mrn: str | None = strawberry.field(default=None, description="Medical record number.")
    email: str | None = strawberry.field(
        default=None, description="The email address the clinic has on file (not a new one)."
    )


@strawberry.input
class VerifySignUpInput:
    verification_id: strawberry.ID
    code: str = strawberry.field(description="The code mailed to the email on file.")
    username: str
    password: str


@strawberry.type(description="Signed in to the new account, as `signIn` answers, or errors.")
class AccountCreatedPayload:
    access_token: str | None = None
    access_token_expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_token_expires_at: datetime | None = None
    viewer: Viewer | None = None
    errors: list[SignUpError] = strawberry.field(default_factory=list)


@strawberry.type
class ActivateAccountPayload(AccountCreatedPayload):
    pass


@strawberry.type
class VerifySignUpPayload(AccountCreatedPayload):
    pass


@strawberry.type(
    description="The same answer whether or not a patient matched: a code goes to the email on "
    "file only if one did."
)
class SignUpWithoutCodePayload:
    verification_id: strawberry.ID | None = strawberry.field(
        default=None, description="Pass it to `verifySignUp` with the mailed code."
    )
    message: str | None = None
    errors: list[SignUpError] = strawberry.field(default_factory=list)


# -- passwords and usernames --------------------------------------------------------------------
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


@strawberry.input
class ResetPasswordInput:
    token: str = strawberry.field(description="From the reset mail.")
    new_password: str


@strawberry.input
class RequestUsernameReminderInput:
    email: str


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


# -- two-step verification (TOTP) ---------------------------------------------------------------
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


@strawberry.input
class ConfirmTotpInput:
    code: str = strawberry.field(description="The 6-digit code the authenticator app shows.")


@strawberry.input
class DisableTotpInput:
    code: str | None = strawberry.field(default=None, description="A current 6-digit code.")
    password: str | None = strawberry.field(default=None, description="Or the password.")


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


# -- contact details ------------------------------------------------------------------------------
@strawberry.enum(description="Why a contact change was refused (nothing was changed).")
class ContactErrorCode(Enum):
    INVALID_ID = "INVALID_ID"
    NOTHING_TO_CHANGE = "NOTHING_TO_CHANGE"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PHONE = "INVALID_PHONE"
    INVALID_ADDRESS = "INVALID_ADDRESS"
    NO_CHANGE_PENDING = "NO_CHANGE_PENDING"
    INVALID_CODE = "INVALID_CODE"
    CODE_EXPIRED = "CODE_EXPIRED"
    CODE_USED = "CODE_USED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    EMAIL_IN_USE = "EMAIL_IN_USE"
    ONE_CREDENTIAL_PER_REQUEST = "ONE_CREDENTIAL_PER_REQUEST"


@strawberry.type
class ContactError(UserError):
    code: ContactErrorCode


@strawberry.input
class AddressInput:
    line1: str
    line2: str | None = None
    city: str
    state: str = strawberry.field(description="Two-letter US state code.")
    postal_code: str = strawberry.field(description="ZIP or ZIP+4.")


@strawberry.input
class UpdateContactInfoInput:
    patient_id: strawberry.ID = strawberry.field(description="Your own record (self only).")
    address: AddressInput | None = None
    phone: str | None = None
    email: str | None = strawberry.field(
        default=None,
        description="A new address replaces the old one only once confirmed with the code "
        "mailed to it (`confirmEmailChange`).",
    )


@strawberry.input
class ConfirmEmailChangeInput:
    patient_id: strawberry.ID
    code: str


@strawberry.type
class UpdateContactInfoPayload:
    patient: PatientRef | None = None
    pending_email: str | None = strawberry.field(
        default=None, description="Waiting for the code sent to it; not yet on file."
    )
    errors: list[ContactError] = strawberry.field(default_factory=list)


@strawberry.type
class ConfirmEmailChangePayload:
    patient: PatientRef | None = None
    errors: list[ContactError] = strawberry.field(default_factory=list)
