"""Sign-in and sessions: signIn, refreshSession, signOut, signOutSession,
signOutEverywhere; their inputs, payloads and error codes (use cases: usecases/sessions.py;
docs/sessions.md)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from resolvers import sessions as r
from schema.base import Info, internal_id
from schema.payloads import UserError, account_action, one_per_request, user_errors
from schema.terms import LegalDocument
from schema.viewer import Viewer
from usecases import sessions as uc


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

    def command(self, client: uc.Client) -> uc.SignIn:
        return uc.SignIn(self.username, self.password, self.totp_code, client)


@strawberry.input
class RefreshSessionInput:
    refresh_token: str

    def command(self) -> uc.RefreshSession:
        return uc.RefreshSession(self.refresh_token)


@strawberry.input
class SignOutInput:
    refresh_token: str

    def command(self) -> uc.SignOut:
        return uc.SignOut(self.refresh_token)


def token_fields(issued: uc.IssuedSession) -> dict[str, Any]:
    """The tokens of a payload that signs in or refreshes."""
    return {
        "access_token": issued.access_token,
        "access_token_expires_at": issued.access_token_expires_at,
        "refresh_token": issued.refresh_token,
        "refresh_token_expires_at": issued.refresh_token_expires_at,
    }


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

    def command(self) -> uc.SignOutSession:
        return uc.SignOutSession(internal_id(self.id, "AccountSession"))


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


SESSION_ERRORS = (SessionError, SessionErrorCode)


@strawberry.type
class SessionMutations:
    @strawberry.mutation(
        description="Exchange a username and password for an access and a refresh token. "
        "A wrong password and an unknown username get the same INVALID_CREDENTIALS."
    )
    @account_action
    @user_errors(SignInPayload, SignInError, SignInErrorCode)
    @one_per_request
    async def sign_in(self, info: Info, input: SignInInput) -> SignInPayload:
        done = await r.sign_in(info.context, input.command(r.client(info.context)))
        return SignInPayload(
            **token_fields(done.session),
            viewer=Viewer(account_id=done.principal.account_id),
            legal_documents_to_accept=[
                LegalDocument.from_row(d, None) for d in done.terms_to_accept
            ],
        )

    @strawberry.mutation(
        description="Trade a refresh token for new tokens. Each refresh token works once: "
        "using one again ends the whole session (SESSION_REVOKED)."
    )
    @account_action
    @user_errors(RefreshSessionPayload, *SESSION_ERRORS)
    async def refresh_session(
        self, info: Info, input: RefreshSessionInput
    ) -> RefreshSessionPayload:
        issued = await r.refresh_session(info.context, input.command())
        return RefreshSessionPayload(**token_fields(issued))

    @strawberry.mutation(
        description="End the session the refresh token belongs to: its access tokens stop "
        "working at once, over HTTP and WebSocket."
    )
    @account_action
    @user_errors(SignOutPayload, *SESSION_ERRORS)
    async def sign_out(self, info: Info, input: SignOutInput) -> SignOutPayload:
        await r.sign_out(info.context, input.command())
        return SignOutPayload(ok=True)

    @strawberry.mutation(
        description="End one of the viewer's sessions (`viewer.sessions`), this one or another "
        "device's. Not one of the viewer's open sessions: SESSION_NOT_FOUND."
    )
    @account_action
    @user_errors(SignOutSessionPayload, *SESSION_ERRORS)
    async def sign_out_session(
        self, info: Info, input: SignOutSessionInput
    ) -> SignOutSessionPayload:
        await r.sign_out_session(info.context, input.command())
        return SignOutSessionPayload(ok=True)

    @strawberry.mutation(
        description="End every session of the viewer's account, this one too unless `keepCurrent`."
    )
    @account_action
    @user_errors(SignOutEverywherePayload, *SESSION_ERRORS)
    async def sign_out_everywhere(
        self, info: Info, input: SignOutEverywhereInput | None = None
    ) -> SignOutEverywherePayload:
        keep_current = input.keep_current if input is not None else False
        ended = await r.sign_out_everywhere(info.context, keep_current)
        return SignOutEverywherePayload(ended=ended)
