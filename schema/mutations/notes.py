"""The patient's privacy choices about their clinical notes."""

from __future__ import annotations

import strawberry

from resolvers import note_privacy as r
from schema import notes as s
from schema.base import Info


@strawberry.type
class NoteMutations:
    @strawberry.mutation(
        description="The patient opens (or closes again) one sensitive category of their "
        "notes to one proxy. Self only; audited; counts from the proxy's next request and "
        "next live event."
    )
    async def set_proxy_note_category(
        self, info: Info, input: s.SetProxyNoteCategoryInput
    ) -> s.SetProxyNoteCategoryPayload:
        return await r.set_proxy_note_category(info, input)

    @strawberry.mutation(
        description="The patient hides one note (and its amendments) from every proxy, or "
        "shows it again. Self only; audited; counts from the next request and live event."
    )
    async def set_note_hidden_from_proxies(
        self, info: Info, input: s.SetNoteHiddenFromProxiesInput
    ) -> s.SetNoteHiddenFromProxiesPayload:
        return await r.set_note_hidden_from_proxies(info, input)
