"""requestRenewal and Patient.prescriptionRenewals: the MEDICATIONS area of the patient
(the patient, or a proxy whose grant allows it). The prescriber answers through the EHR
feed (PRESCRIPTION_RENEWAL_ANSWERED, persistence/renewals.py). Reads return rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.access import PatientGrant
from domain.scopes import RecordArea
from persistence import models as m
from persistence.uow import UnitOfWork
from resolvers.owned import owned_row
from usecases import renewals as usecases

if TYPE_CHECKING:
    from runtime.context import Context


async def request_renewal(ctx: Context, command: usecases.RequestRenewal) -> usecases.Requested:
    ctx.require_principal()
    owner = await ctx.loaders.owner_of.get((m.Medication, command.medication_id))
    # An unknown medication is refused like a forbidden one, so ids reveal nothing.
    grant = ctx.act(owner or "", RecordArea.MEDICATIONS, "PrescriptionRenewal")
    today = ctx.services.settings.ages.today(ctx.now)
    uow = UnitOfWork(ctx.services.sessions)
    return await usecases.request_renewal(command, grant, uow, ctx.now, today)


async def prescription_renewals(ctx: Context, grant: PatientGrant) -> list[m.PrescriptionRenewal]:
    return await ctx.loaders.renewals.get(grant) or []


async def renewal(ctx: Context, row_id: str) -> tuple[m.PrescriptionRenewal | None, PatientGrant]:
    """node(id): through the patient's MEDICATIONS grant (unknown: forbidden)."""
    row, grant = await owned_row(ctx, m.PrescriptionRenewal, "PrescriptionRenewal", row_id)
    return row, grant
