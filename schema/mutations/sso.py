"""Single sign-on with the institution's identity providers: startSso, completeSsoSignIn,
unlinkIdentity, setPasswordSignIn; their inputs, payloads and error codes (use cases:
usecases/sso.py; rules: domain/sso.py)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from resolvers import sso as r
from resolvers.sessions import client
from schema.base import Info, internal_id
from schema.mutations.sessions import token_fields
from schema.payloads import UserError, account_action, user_errors
from schema.viewer import Viewer
from usecases import sso as uc
from usecases.sessions import Client


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

    def command(self, client: Client) -> uc.CompleteSsoSignIn:
        return uc.CompleteSsoSignIn(self.code, self.code_verifier, client)


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


ERRORS = (SsoError, SsoErrorCode)


@strawberry.type
class SsoMutations:
    @strawberry.mutation(
        description="Start signing in (or, with `link`, linking the signed-in account) with an "
        "identity provider: returns the URL to open. The provider sends the browser back to "
        "the portal, which redirects to `redirectUri` with `code` (for `completeSsoSignIn`), "
        "`linked`, or `error` (not_linked, identity_in_use, provider_refused, "
        "invalid_response). An identity is linked only on proof: a portal sign-in (`link`) "
        "or a claim the provider is configured to vouch for, never an email address alone."
    )
    @account_action
    @user_errors(StartSsoPayload, *ERRORS)
    async def start_sso(self, info: Info, input: StartSsoInput) -> StartSsoPayload:
        url = await r.start_sso(
            info.context, input.provider, input.redirect_uri, input.code_challenge, input.link
        )
        return StartSsoPayload(authorization_url=url)

    @strawberry.mutation(
        description="Exchange the one-time code from the return address, with the PKCE "
        "verifier of the flow's `codeChallenge`, for the portal's tokens (as `signIn`). "
        "Each code works once, for two minutes."
    )
    @account_action
    @user_errors(CompleteSsoSignInPayload, *ERRORS)
    async def complete_sso_sign_in(
        self, info: Info, input: CompleteSsoSignInInput
    ) -> CompleteSsoSignInPayload:
        done = await r.complete_sso_sign_in(info.context, input.command(client(info.context)))
        return CompleteSsoSignInPayload(
            **token_fields(done.session), viewer=Viewer(account_id=done.principal.account_id)
        )

    @strawberry.mutation(description="Unlink one of the viewer's single sign-on identities.")
    @account_action
    @user_errors(UnlinkIdentityPayload, *ERRORS)
    async def unlink_identity(
        self, info: Info, input: UnlinkIdentityInput
    ) -> UnlinkIdentityPayload:
        await r.unlink_identity(info.context, internal_id(input.id, "LinkedIdentity"))
        return UnlinkIdentityPayload(ok=True)

    @strawberry.mutation(
        description="Turn password sign-in off (single sign-on only; needs a linked identity) "
        "or on again."
    )
    @account_action
    @user_errors(SetPasswordSignInPayload, *ERRORS)
    async def set_password_sign_in(
        self, info: Info, input: SetPasswordSignInInput
    ) -> SetPasswordSignInPayload:
        await r.set_password_sign_in(info.context, input.enabled)
        return SetPasswordSignInPayload(password_sign_in=input.enabled)
