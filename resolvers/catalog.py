"""Open slots and the provider directory: not PHI, but only for signed-in viewers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from persistence import models as m
from persistence.paging import Page, SortKey, page_of
from persistence.queries import appointments, people
from schema.appointments import Slot, SlotFilter
from schema.base import Connection, cursor_values, internal_id, page_size
from schema.people import Provider

if TYPE_CHECKING:
    from schema.base import Info

PROVIDER_SORT = SortKey((m.Provider.display_name, m.Provider.id), descending=False)


async def available_slots(
    info: Info, filter: SlotFilter, first: int | None, after: str | None
) -> Connection[Slot]:
    ctx = info.context
    ctx.require_principal()
    query = appointments.open_slots_query(
        now=ctx.now,
        department_id=internal_id(filter.department_id, "Department")
        if filter.department_id
        else None,
        provider_id=internal_id(filter.provider_id, "Provider") if filter.provider_id else None,
        visit_type=filter.visit_type,
        starts_after=filter.starts_after,
        starts_before=filter.starts_before,
    )
    page = Page(page_size(first), cursor_values(after, [datetime, str]))
    async with ctx.loaders.session() as session:
        result = await page_of(session, query, appointments.SLOT_SORT, page)
    return Connection.of(result, Slot.from_row)


async def providers(
    info: Info, search: str | None, first: int | None, after: str | None
) -> Connection[Provider]:
    info.context.require_principal()
    page = Page(page_size(first), cursor_values(after, [str, str]))
    async with info.context.loaders.session() as session:
        result = await page_of(session, people.providers_query(search), PROVIDER_SORT, page)
    return Connection.of(result, Provider.from_row)
