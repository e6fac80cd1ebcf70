"""Proxy access: the grants a patient gave and who read their record (self-only reads,
rows), and giving, accepting and revoking grants and the "wait for my doctor" choice
(writes: usecases/proxies.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.errors import BrokenInvariant
from domain.paging import Page, PageOf
from persistence.uow import UnitOfWork
from usecases import proxies as usecases

if TYPE_CHECKING:
    from persistence import models as m
    from persistence.queries.people import AccountRow
    from runtime.context import Context


# -- writes ---------------------------------------------------------------------------------
async def grant_proxy_access(ctx: Context, command: usecases.GrantProxyAccess) -> m.ProxyGrant:
    own = ctx.act_for_self(command.patient_id, "ProxyGrant")
    settings = ctx.services.settings
    uow = UnitOfWork(ctx.services.sessions)
    return await usecases.grant_proxy_access(
        command, own, uow, settings.ages, settings.proxies, ctx.now
    )


async def accept_proxy_invitation(ctx: Context, command: usecases.AcceptProxyInvitation) -> str:
    """An account action (audited by the schema field): the id of the patient now reachable."""
    principal = ctx.require_principal()
    uow = UnitOfWork(ctx.services.sessions)
    return await usecases.accept_proxy_invitation(command, principal, uow, ctx.now)


async def revoke_proxy_access(ctx: Context, command: usecases.RevokeProxyAccess) -> m.ProxyGrant:
    uow = UnitOfWork(ctx.services.sessions)
    owner = await usecases.grant_owner(uow, command.grant_id)
    # Someone else's grant and no grant at all answer alike (SELF_ONLY).
    own = ctx.act_for_self(owner or "", "ProxyGrant")
    return await usecases.revoke_proxy_access(command, own, uow, ctx.now)


async def set_result_release_preference(
    ctx: Context, command: usecases.SetResultReleasePreference
) -> set[str]:
    own = ctx.act_for_self(command.patient_id, "ResultHoldPreference")
    uow = UnitOfWork(ctx.services.sessions)
    return await usecases.set_result_release_preference(command, own, uow, ctx.now)


# -- reads ----------------------------------------------------------------------------------
async def proxy_grants(ctx: Context, patient_id: str) -> list[m.ProxyGrant]:
    grant = ctx.own_record(patient_id, "ProxyGrant")
    return await ctx.loaders.proxy_grants_given.get(grant) or []


async def access_log(
    ctx: Context, patient_id: str, size: int, after: tuple[Any, ...] | None
) -> PageOf:
    grant = ctx.own_record(patient_id, "AccessLogEntry")
    result = await ctx.loaders.access_log.get((grant, Page(size, after)))
    if result is None:
        raise BrokenInvariant("result is None")
    return result


async def proxy_account(ctx: Context, account_id: str) -> AccountRow | None:
    return await ctx.loaders.account.get(account_id)


async def proxy_grant(ctx: Context, row_id: str) -> m.ProxyGrant | None:
    """node(id): only among the viewer's own grants given; anything else answers SELF_ONLY."""
    rows = await proxy_grants(ctx, ctx.require_principal().patient_id or "")
    row = next((r for r in rows if r.id == row_id), None)
    if row is None:
        ctx.own_record("", "ProxyGrant")  # unknown or someone else's: same as forbidden
    return row
