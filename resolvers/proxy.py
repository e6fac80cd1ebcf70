"""Self-only parts of the record: proxy grants given, and the access log."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.errors import BrokenInvariant
from persistence.paging import Page
from schema import proxy as s
from schema.base import Connection, cursor_values, page_size

if TYPE_CHECKING:
    from schema.base import Info


async def proxy_grants(info: Info, patient_id: str) -> list[s.ProxyGrant]:
    grant = info.context.own_record(patient_id, "ProxyGrant")
    rows = await info.context.loaders.proxy_grants_given.get(grant)
    return [s.ProxyGrant.from_row(row) for row in rows or []]


async def access_log(
    info: Info, patient_id: str, first: int | None, after: str | None
) -> Connection[s.AccessLogEntry]:
    grant = info.context.own_record(patient_id, "AccessLogEntry")
    page = Page(page_size(first), cursor_values(after, [datetime, int]))
    result = await info.context.loaders.access_log.get((grant, page))
    if result is None:
        raise BrokenInvariant("result is None")
    return Connection.of(result, s.AccessLogEntry.from_row)


async def proxy_account(info: Info, account_id: str) -> s.ProxyAccount | None:
    row = await info.context.loaders.account.get(account_id)
    return s.ProxyAccount(display_name=row.display_name) if row else None


async def proxy_grant_node(info: Info, row_id: str) -> s.ProxyGrant | None:
    """Only among the viewer's own grants given; anything else answers SELF_ONLY."""
    ctx = info.context
    own = ctx.own_record(ctx.require_principal().patient_id or "", "ProxyGrant")
    rows = await ctx.loaders.proxy_grants_given.get(own)
    row = next((r for r in rows or [] if r.id == row_id), None)
    if row is None:
        ctx.own_record("", "ProxyGrant")  # unknown or someone else's: same as forbidden
    return s.ProxyGrant.from_row(row) if row else None
