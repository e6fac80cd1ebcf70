"""The signed-in viewer: their account and every patient context they may act in."""

from __future__ import annotations

import strawberry

from resolvers import viewer as r
from schema.base import Info
from schema.patient import PatientContext
from schema.people import Account


@strawberry.type
class Viewer:
    account_id: strawberry.Private[str]

    @strawberry.field
    async def account(self, info: Info) -> Account:
        return await r.account(info, self.account_id)

    @strawberry.field(description="Self first, then every patient an active grant covers.")
    def patients(self, info: Info) -> list[PatientContext]:
        return r.patient_contexts(info)
