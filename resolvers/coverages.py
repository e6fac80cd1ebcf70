"""Patient.coverages (BILLING) and each primary coverage's card image (APPOINTMENTS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.access import PatientGrant
from domain.scopes import RecordArea
from persistence import models as m

if TYPE_CHECKING:
    from portal.context import Context
    from schema.base import Info
    from schema.coverages import Coverage


async def coverages(ctx: Context, grant: PatientGrant) -> list[m.Coverage]:
    return await ctx.loaders.coverages.get(grant) or []


async def insurance_card(ctx: Context, patient_id: str) -> m.Attachment | None:
    """The newest card image sent with eCheck-in: the patient's APPOINTMENTS area."""
    grant = ctx.access(patient_id, RecordArea.APPOINTMENTS, "Attachment")
    cards = await ctx.loaders.insurance_cards.get(grant)
    return cards[0] if cards else None


# Until schema/base.py's Node registry lands: then `Coverage.fetch_node` takes this over.
async def coverage_node(info: Info, row_id: str) -> Coverage | None:
    from resolvers.nodes import owned_row  # resolvers.nodes imports this module
    from schema.coverages import Coverage

    row, _grant = await owned_row(info, m.Coverage, "Coverage", row_id)
    return Coverage.from_row(row) if row else None
