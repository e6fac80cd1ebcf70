"""startSso, completeSsoSignIn, unlinkIdentity, setPasswordSignIn, `ssoProviders` and
`viewer.linkedIdentities` (use cases: usecases/sso.py; the callback: portal/sso.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import sso as rules
from persistence.uow import UnitOfWork
from resolvers.sessions import issuing, now_signed_in
from usecases import sso as uc
from usecases.sessions import SignedIn

if TYPE_CHECKING:
    from persistence.sso import LinkedIdentity
    from runtime.context import Context
    from runtime.sso_settings import ProviderSettings


def providers(ctx: Context) -> list[ProviderSettings]:
    return list(ctx.services.settings.sso.providers)


async def linked_identities(ctx: Context) -> list[tuple[LinkedIdentity, str]]:
    """The signed-in account's own identities, each with its provider's name."""
    account_id = ctx.require_principal().account_id
    names = {p.id: p.name for p in ctx.services.settings.sso.providers}
    stored = await ctx.loaders.linked_identities.get(account_id)
    return [(i, names.get(i.provider, i.provider)) for i in stored or []]


async def start_sso(
    ctx: Context, provider_id: str, redirect_uri: str, code_challenge: str, link: bool
) -> str:
    """The provider's authorization URL to open."""
    settings = ctx.services.settings.sso
    provider = settings.provider(provider_id)
    if provider is None:
        raise rules.UnknownProvider(field="provider")
    link_account_id = ctx.require_principal().account_id if link else None
    command = uc.StartSso(provider.rules(), redirect_uri, code_challenge, link_account_id)
    return await uc.start_sso(
        command,
        UnitOfWork(ctx.services.sessions),
        ctx.services.sso.clients[provider.id],
        settings.redirect_uris,
        ctx.now,
    )


async def complete_sso_sign_in(ctx: Context, command: uc.CompleteSsoSignIn) -> SignedIn:
    uow = UnitOfWork(ctx.services.sessions)
    done = await uc.complete_sso_sign_in(command, uow, issuing(ctx), ctx.now, ctx.audit_account)
    return now_signed_in(ctx, done)


async def unlink_identity(ctx: Context, identity_id: str) -> None:
    account_id = ctx.require_principal().account_id
    await uc.unlink_identity(account_id, identity_id, UnitOfWork(ctx.services.sessions))


async def set_password_sign_in(ctx: Context, enabled: bool) -> None:
    account_id = ctx.require_principal().account_id
    await uc.set_password_sign_in(account_id, enabled, UnitOfWork(ctx.services.sessions))
