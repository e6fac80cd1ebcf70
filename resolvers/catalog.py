"""The provider directory: not PHI, but only for signed-in viewers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from persistence import models as m
from persistence.paging import Page, SortKey, page_of
from persistence.queries import people
from schema.base import Connection, cursor_values, page_size
from schema.people import Provider

if TYPE_CHECKING:
    from schema.base import Info

PROVIDER_SORT = SortKey((m.Provider.display_name, m.Provider.id), descending=False)


async def providers(
    info: Info, search: str | None, first: int | None, after: str | None
) -> Connection[Provider]:
    info.context.require_principal()
    page = Page(page_size(first), cursor_values(after, [str, str]))
    async with info.context.loaders.session() as session:
        result = await page_of(session, people.providers_query(search), PROVIDER_SORT, page)
    return Connection.of(result, Provider.from_row)
