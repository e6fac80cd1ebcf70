"""startSso, completeSsoSignIn, unlinkIdentity, setPasswordSignIn and
`ssoProviders` (use cases: usecases/sso.py; the callback: portal/sso.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import sso as rules
from domain.errors import BrokenInvariant
from persistence.terms import pending_for
from persistence.uow import UnitOfWork
from resolvers.auth import start_session
from resolvers.payloads import account_action, user_errors
from schema import sso as s
from schema.base import internal_id
from schema.sso_types import SsoProvider
from schema.viewer import Viewer
from usecases import sso as uc

if TYPE_CHECKING:
    from schema.base import Info

ERRORS = (s.SsoError, s.SsoErrorCode)


def providers(info: Info) -> list[SsoProvider]:
    return [SsoProvider(id=p.id, name=p.name) for p in info.context.services.settings.sso.providers]


@account_action
@user_errors(s.StartSsoPayload, *ERRORS)
async def start_sso(info: Info, input: s.StartSsoInput) -> s.StartSsoPayload:
    ctx = info.context
    settings = ctx.services.settings.sso
    provider = settings.provider(input.provider)
    if provider is None:
        raise rules.UnknownProvider(field="provider")
    link_account_id = ctx.require_principal().account_id if input.link else None
    command = uc.StartSso(
        provider.rules(), input.redirect_uri, input.code_challenge, link_account_id
    )
    url = await uc.start_sso(
        command,
        UnitOfWork(ctx.services.sessions),
        ctx.services.sso.clients[provider.id],
        settings.redirect_uris,
        ctx.now,
    )
    return s.StartSsoPayload(authorization_url=url)


@account_action
@user_errors(s.CompleteSsoSignInPayload, *ERRORS)
async def complete_sso_sign_in(
    info: Info, input: s.CompleteSsoSignInInput
) -> s.CompleteSsoSignInPayload:
    ctx = info.context
    uow = UnitOfWork(ctx.services.sessions)
    account_id = await uc.take_handoff(input.code, input.code_verifier, uow, ctx.now)
    ctx.audit_account(account_id)
    async with uow:  # the portal's own session, started as signIn starts it
        pending = bool(await pending_for(uow.session, account_id))
        issued = start_session(uow, ctx, account_id, terms_pending=pending)
        principal, name = await uow.accounts.principal(account_id, ctx.now)
        await uow.commit()
    if principal is None:
        raise BrokenInvariant("principal is None")
    ctx.signed_in(principal, name, issued.session_id, terms_pending=pending)
    return s.CompleteSsoSignInPayload(
        access_token=issued.access_token,
        access_token_expires_at=issued.access_token_expires_at,
        refresh_token=issued.refresh_token,
        refresh_token_expires_at=issued.refresh_token_expires_at,
        viewer=Viewer(account_id=account_id),
    )


@account_action
@user_errors(s.UnlinkIdentityPayload, *ERRORS)
async def unlink_identity(info: Info, input: s.UnlinkIdentityInput) -> s.UnlinkIdentityPayload:
    ctx = info.context
    account_id = ctx.require_principal().account_id
    identity_id = internal_id(input.id, "LinkedIdentity")
    await uc.unlink_identity(account_id, identity_id, UnitOfWork(ctx.services.sessions))
    return s.UnlinkIdentityPayload(ok=True)


@account_action
@user_errors(s.SetPasswordSignInPayload, *ERRORS)
async def set_password_sign_in(
    info: Info, input: s.SetPasswordSignInInput
) -> s.SetPasswordSignInPayload:
    ctx = info.context
    account_id = ctx.require_principal().account_id
    await uc.set_password_sign_in(account_id, input.enabled, UnitOfWork(ctx.services.sessions))
    return s.SetPasswordSignInPayload(password_sign_in=input.enabled)
