"""requestRenewal and Patient.prescriptionRenewals: the MEDICATIONS area of the patient
(the patient, or a proxy whose grant allows it). The prescriber answers through the EHR
feed (PRESCRIPTION_RENEWAL_ANSWERED, persistence/renewals.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.access import PatientGrant
from domain.renewals import InvalidId
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries import owned
from persistence.uow import UnitOfWork
from resolvers.payloads import user_errors
from schema import renewals as s
from schema.base import BadInput, internal_id
from schema.summary import Medication
from usecases import renewals as usecases

if TYPE_CHECKING:
    from schema.base import Info


@user_errors(s.RequestRenewalPayload, s.RequestRenewalError, s.RequestRenewalErrorCode)
async def request_renewal(info: Info, input: s.RequestRenewalInput) -> s.RequestRenewalPayload:
    ctx = info.context
    try:
        medication_id = internal_id(input.medication_id, "Medication")
    except BadInput:
        raise InvalidId(field="medicationId") from None
    ctx.require_principal()
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        owner = await owned.owner_of(uow.session, m.Medication, medication_id)
    # An unknown medication is refused like a forbidden one, so ids reveal nothing.
    grant = ctx.act(owner or "", RecordArea.MEDICATIONS, "PrescriptionRenewal")
    command = usecases.RequestRenewal(medication_id, input.pharmacy, input.note)
    today = ctx.services.settings.ages.today(ctx.now)
    row, medication = await usecases.request_renewal(command, grant, uow, ctx.now, today)
    return s.RequestRenewalPayload(
        renewal=s.PrescriptionRenewal.from_row(row, grant),
        medication=Medication.from_row(medication, grant),
    )


async def prescription_renewals(info: Info, grant: PatientGrant) -> list[s.PrescriptionRenewal]:
    rows = await info.context.loaders.renewals.get(grant)
    return [s.PrescriptionRenewal.from_row(row, grant) for row in rows or []]


async def renewal_node(info: Info, row_id: str) -> s.PrescriptionRenewal | None:
    from resolvers.nodes import owned_row  # resolvers.nodes imports this module

    row, grant = await owned_row(info, m.PrescriptionRenewal, "PrescriptionRenewal", row_id)
    return s.PrescriptionRenewal.from_row(row, grant) if row else None
