"""Single sign-on (OpenID Connect): providers, starting a flow, the code exchange, linked
identities and SSO-only accounts (docs/sso.md)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from schema.payloads import UserError
from schema.viewer import Viewer


@strawberry.enum
class SsoErrorCode(Enum):
    UNKNOWN_PROVIDER = "UNKNOWN_PROVIDER"
    REDIRECT_NOT_ALLOWED = "REDIRECT_NOT_ALLOWED"
    INVALID_CHALLENGE = "INVALID_CHALLENGE"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    INVALID_CODE = "INVALID_CODE"
    IDENTITY_NOT_FOUND = "IDENTITY_NOT_FOUND"
    LAST_SIGN_IN_METHOD = "LAST_SIGN_IN_METHOD"
    NO_LINKED_IDENTITY = "NO_LINKED_IDENTITY"


@strawberry.type
class SsoError(UserError):
    code: SsoErrorCode


@strawberry.input
class StartSsoInput:
    provider: str
    redirect_uri: str = strawberry.field(
        description="Where the browser comes back: exactly one of the configured web pages or "
        "registered app URIs."
    )
    code_challenge: str = strawberry.field(
        description="base64url(SHA-256(verifier)) of a verifier the client keeps for "
        "`completeSsoSignIn` (PKCE S256)."
    )
    link: bool = strawberry.field(
        default=False,
        description="Link the identity to the signed-in account instead of signing in "
        "(needs an access token).",
    )


@strawberry.type
class StartSsoPayload:
    authorization_url: str | None = strawberry.field(
        default=None, description="Open it in the browser (or the system browser, in apps)."
    )
    errors: list[SsoError] = strawberry.field(default_factory=list)


@strawberry.input
class CompleteSsoSignInInput:
    code: str = strawberry.field(description="The `code` the return address was given.")
    code_verifier: str


@strawberry.type(description="Signed in as `signIn` answers, or errors.")
class CompleteSsoSignInPayload:
    access_token: str | None = None
    access_token_expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_token_expires_at: datetime | None = None
    viewer: Viewer | None = None
    errors: list[SsoError] = strawberry.field(default_factory=list)


@strawberry.input
class UnlinkIdentityInput:
    id: strawberry.ID


@strawberry.type
class UnlinkIdentityPayload:
    ok: bool = False
    errors: list[SsoError] = strawberry.field(default_factory=list)


@strawberry.input
class SetPasswordSignInInput:
    enabled: bool


@strawberry.type
class SetPasswordSignInPayload:
    password_sign_in: bool | None = None
    errors: list[SsoError] = strawberry.field(default_factory=list)
