"""Patient.coverages (BILLING) and each primary coverage's card image (APPOINTMENTS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.access import PatientGrant
from domain.scopes import RecordArea
from persistence import models as m
from resolvers.owned import owned_row

if TYPE_CHECKING:
    from runtime.context import Context


async def coverages(ctx: Context, grant: PatientGrant) -> list[m.Coverage]:
    return await ctx.loaders.coverages.get(grant) or []


async def insurance_card(ctx: Context, patient_id: str) -> m.Attachment | None:
    """The newest card image sent with eCheck-in: the patient's APPOINTMENTS area."""
    grant = ctx.access(patient_id, RecordArea.APPOINTMENTS, "Attachment")
    cards = await ctx.loaders.insurance_cards.get(grant)
    return cards[0] if cards else None


async def coverage(ctx: Context, row_id: str) -> m.Coverage | None:
    """node(id): through the patient's BILLING grant (unknown: forbidden)."""
    row, _grant = await owned_row(ctx, m.Coverage, "Coverage", row_id)
    return row  # type: ignore[no-any-return]
