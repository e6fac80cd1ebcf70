"""Insurance coverage as the EHR sends it (COVERAGE_UPDATED), under the BILLING area."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING

import strawberry

from domain.access import PatientGrant
from resolvers import coverages as r
from schema.attachments import Attachment
from schema.base import Info, Node
from schema.money import Money

if TYPE_CHECKING:
    from persistence import models as m


@strawberry.enum
class SubscriberRelation(Enum):
    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    OTHER = "other"


@strawberry.type(description="What a visit of one kind costs the patient under this plan.")
class Copay:
    service: str
    amount: Money


@strawberry.type(description="An amount the plan counts up to a limit in the plan year.")
class Accumulator:
    met: Money | None
    limit: Money | None


@strawberry.type(description="An insurance plan covering the patient (primary first).")
class Coverage(Node):
    priority: int = strawberry.field(description="1 for the primary coverage, then 2, ...")
    payer: str
    plan: str
    member_id: str
    group_number: str | None
    subscriber_name: str
    subscriber_relation: SubscriberRelation = strawberry.field(
        description="The patient's relation to the subscriber (SELF: the patient subscribes)."
    )
    effective_from: date
    effective_to: date | None
    copays: list[Copay]
    deductible: Accumulator
    out_of_pocket: Accumulator
    updated_at: datetime
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]

    def node_id(self) -> str:
        return self.internal_id

    @strawberry.field(
        description="The newest insurance card image sent with eCheck-in, on the primary "
        "coverage (null on the others, or when none was sent). Like the download, it needs "
        "the patient's APPOINTMENTS area (FORBIDDEN otherwise, with the reason)."
    )
    async def insurance_card(self, info: Info) -> Attachment | None:
        if self.priority != 1:
            return None
        card = await r.insurance_card(info.context, self.patient_id)
        return Attachment.from_row(card) if card else None

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Coverage | None:
        row = await r.coverage(info.context, row_id)
        return cls.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: m.Coverage) -> Coverage:
        def money(cents: int | None) -> Money | None:
            return Money.cents(cents, row.currency) if cents is not None else None

        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            priority=row.priority,
            payer=row.payer,
            plan=row.plan,
            member_id=row.member_id,
            group_number=row.group_number,
            subscriber_name=row.subscriber_name,
            subscriber_relation=SubscriberRelation(row.subscriber_relation),
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            copays=[
                Copay(service=c["service"], amount=Money.cents(c["amount_cents"], row.currency))
                for c in row.copays
            ],
            deductible=Accumulator(
                met=money(row.deductible_met_cents), limit=money(row.deductible_cents)
            ),
            out_of_pocket=Accumulator(
                met=money(row.out_of_pocket_met_cents), limit=money(row.out_of_pocket_max_cents)
            ),
            updated_at=row.updated_at,
        )


async def coverages(info: Info, grant: PatientGrant) -> list[Coverage]:
    """Patient.coverages: on file from the EHR, primary first."""
    return [Coverage.from_row(row) for row in await r.coverages(info.context, grant)]
