"""Single sign-on with the institution's identity providers (rules: domain/sso.py)."""

from __future__ import annotations

import strawberry

from resolvers import sso as r
from schema import sso as s
from schema.base import Info


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
    async def start_sso(self, info: Info, input: s.StartSsoInput) -> s.StartSsoPayload:
        return await r.start_sso(info, input)

    @strawberry.mutation(
        description="Exchange the one-time code from the return address, with the PKCE "
        "verifier of the flow's `codeChallenge`, for the portal's tokens (as `signIn`). "
        "Each code works once, for two minutes."
    )
    async def complete_sso_sign_in(
        self, info: Info, input: s.CompleteSsoSignInInput
    ) -> s.CompleteSsoSignInPayload:
        return await r.complete_sso_sign_in(info, input)

    @strawberry.mutation(description="Unlink one of the viewer's single sign-on identities.")
    async def unlink_identity(
        self, info: Info, input: s.UnlinkIdentityInput
    ) -> s.UnlinkIdentityPayload:
        return await r.unlink_identity(info, input)

    @strawberry.mutation(
        description="Turn password sign-in off (single sign-on only; needs a linked identity) "
        "or on again."
    )
    async def set_password_sign_in(
        self, info: Info, input: s.SetPasswordSignInInput
    ) -> s.SetPasswordSignInPayload:
        return await r.set_password_sign_in(info, input)
