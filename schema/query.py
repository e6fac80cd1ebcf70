"""The root Query."""

from __future__ import annotations

import strawberry

from resolvers import devices as devices_r
from resolvers import sso as sso_r
from schema import appointments as appointments_s
from schema import people as people_s
from schema import viewer as viewer_s
from schema.appointments import Slot, SlotFilter
from schema.base import Connection, Info, Node, fetch_node, internal_id
from schema.patients import Patient
from schema.people import Provider
from schema.sso import SsoProvider
from schema.terms import LegalDocument, legal_documents
from schema.viewer import Viewer


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in viewer; null when signed out.")
    def viewer(self, info: Info) -> Viewer | None:
        return viewer_s.viewer(info)

    @strawberry.field(
        description="The VAPID public key (base64url) browsers pass as `applicationServerKey` "
        "when they subscribe for Web Push (then `registerDevice`)."
    )
    def web_push_public_key(self, info: Info) -> str:
        return devices_r.web_push_public_key(info.context)

    @strawberry.field(description="The identity providers to offer single sign-on with.")
    def sso_providers(self, info: Info) -> list[SsoProvider]:
        return [SsoProvider.from_settings(p) for p in sso_r.providers(info.context)]

    @strawberry.field(description="A patient the viewer may act for; FORBIDDEN otherwise.")
    async def patient(self, info: Info, id: strawberry.ID) -> Patient | None:
        return await Patient.of(info, internal_id(id, "Patient"))

    @strawberry.field(description="Any object by its global id, with the same access rules.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await fetch_node(info, id)

    @strawberry.field(
        description="The current terms of use and privacy notice, each with when the viewer "
        "accepted it (null: pending). Readable while acceptance is pending."
    )
    async def legal_documents(self, info: Info) -> list[LegalDocument]:
        return await legal_documents(info)

    @strawberry.field(
        description="Null, with BAD_USER_INPUT at this path, when an argument is refused "
        "(a `first` out of range, a bad cursor): the rest of the request still answers."
    )
    async def available_slots(
        self, info: Info, filter: SlotFilter, first: int | None = None, after: str | None = None
    ) -> Connection[Slot] | None:
        return await appointments_s.available_slots(info, filter, first, after)

    @strawberry.field(
        description="Null, with BAD_USER_INPUT at this path, when an argument is refused "
        "(a `first` out of range, a bad cursor): the rest of the request still answers."
    )
    async def providers(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Provider] | None:
        return await people_s.providers(info, search, first, after)
