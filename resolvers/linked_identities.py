"""`viewer.linkedIdentities`: the signed-in account's own single sign-on identities."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schema.sso_types import LinkedIdentity

if TYPE_CHECKING:
    from schema.base import Info


async def linked_identities(info: Info) -> list[LinkedIdentity]:
    ctx = info.context
    account_id = ctx.require_principal().account_id
    names = {p.id: p.name for p in ctx.services.settings.sso.providers}
    stored = await ctx.loaders.linked_identities.get(account_id)
    return [LinkedIdentity.from_stored(i, names.get(i.provider, i.provider)) for i in stored or []]
