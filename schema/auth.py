"""Sign-in and sessions: inputs, payloads and their error codes."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from schema.legal import LegalDocument
from schema.payloads import UserError
from schema.viewer import Viewer


@strawberry.enum
class SignInErrorCode(Enum):
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    ACCOUNT_LOCKED = strawberry.enum_value(
        "ACCOUNT_LOCKED",
        deprecation_reason=(
            "No longer answered: a locked account answers INVALID_CREDENTIALS whatever the "
            "password, so the answer tells neither that the password was right nor that the "
            "username exists."
        ),
    )
    TOTP_REQUIRED = "TOTP_REQUIRED"
    INVALID_TOTP_CODE = "INVALID_TOTP_CODE"
    ONE_CREDENTIAL_PER_REQUEST = "ONE_CREDENTIAL_PER_REQUEST"


@strawberry.enum
class SessionErrorCode(Enum):
    INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"  # noqa: S105 (an error code)
    SESSION_EXPIRED = "SESSION_EXPIRED"
    SESSION_REVOKED = "SESSION_REVOKED"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"


@strawberry.type
class SignInError(UserError):
    code: SignInErrorCode


@strawberry.type
class SessionError(UserError):
    code: SessionErrorCode


@strawberry.input
class SignInInput:
    username: str
    password: str
    totp_code: str | None = strawberry.field(
        default=None,
        description="The authenticator app's 6-digit code, for accounts with two-step "
        "verification on (without it they get TOTP_REQUIRED).",
    )


@strawberry.input
class RefreshSessionInput:
    refresh_token: str


@strawberry.input
class SignOutInput:
    refresh_token: str


@strawberry.type(description="Null tokens and one error unless the sign-in succeeded.")
class SignInPayload:
    access_token: str | None = strawberry.field(
        default=None, description="A JWT for `Authorization: Bearer`; short-lived."
    )
    access_token_expires_at: datetime | None = None
    refresh_token: str | None = strawberry.field(
        default=None, description="Opaque; single use: `refreshSession` returns the next one."
    )
    refresh_token_expires_at: datetime | None = None
    viewer: Viewer | None = strawberry.field(
        default=None, description="The account just signed in, as `viewer` will show it."
    )
    legal_documents_to_accept: list[LegalDocument] = strawberry.field(
        default_factory=list,
        description="Current terms of use / privacy notice versions this account has not "
        "accepted. Until it accepts them (acceptLegalDocuments), everything but "
        "`legalDocuments`, acceptLegalDocuments and the session mutations answers "
        "TERMS_ACCEPTANCE_REQUIRED.",
    )
    errors: list[SignInError] = strawberry.field(default_factory=list)


@strawberry.type
class RefreshSessionPayload:
    access_token: str | None = None
    access_token_expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_token_expires_at: datetime | None = None
    errors: list[SessionError] = strawberry.field(default_factory=list)


@strawberry.type
class SignOutPayload:
    ok: bool = False
    errors: list[SessionError] = strawberry.field(default_factory=list)


@strawberry.input
class SignOutSessionInput:
    id: strawberry.ID = strawberry.field(description="An `AccountSession` id of `viewer.sessions`.")


@strawberry.type
class SignOutSessionPayload:
    ok: bool = False
    errors: list[SessionError] = strawberry.field(default_factory=list)


@strawberry.input
class SignOutEverywhereInput:
    keep_current: bool = strawberry.field(
        default=False, description="Keep the session this request is made in."
    )


@strawberry.type
class SignOutEverywherePayload:
    ended: int = strawberry.field(default=0, description="How many sessions ended.")
    errors: list[SessionError] = strawberry.field(default_factory=list)
