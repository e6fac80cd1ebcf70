"""requestRenewal: a new prescription asked of the prescriber (rules: domain/renewals.py;
the write: usecases/renewals.py): its input, payload, error codes and mutation field."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.renewals import InvalidId
from resolvers import renewals as r
from schema.base import BadInput, Info, internal_id
from schema.payloads import UserError, user_errors
from schema.renewals import PrescriptionRenewal
from schema.summary import Medication
from usecases import renewals as usecases


@strawberry.enum(description="Why a renewal request was refused (nothing was changed).")
class RequestRenewalErrorCode(Enum):
    INVALID_ID = "INVALID_ID"
    MEDICATION_INACTIVE = "MEDICATION_INACTIVE"
    RENEWAL_NOT_NEEDED = "RENEWAL_NOT_NEEDED"
    ALREADY_REQUESTED = "ALREADY_REQUESTED"
    NO_PRESCRIBER = "NO_PRESCRIBER"
    NOTE_TOO_LONG = "NOTE_TOO_LONG"


@strawberry.type
class RequestRenewalError(UserError):
    code: RequestRenewalErrorCode


@strawberry.input
class RequestRenewalInput:
    medication_id: strawberry.ID
    pharmacy: str | None = strawberry.field(
        default=None, description="Defaults to the pharmacy on file for the prescription."
    )
    note: str | None = None

    def command(self) -> usecases.RequestRenewal:
        try:
            medication_id = internal_id(self.medication_id, "Medication")
        except BadInput:
            raise InvalidId(field="medicationId") from None
        return usecases.RequestRenewal(medication_id, self.pharmacy, self.note)


@strawberry.type
class RequestRenewalPayload:
    renewal: PrescriptionRenewal | None = None
    medication: Medication | None = None
    errors: list[RequestRenewalError] = strawberry.field(default_factory=list)


@strawberry.type
class RenewalMutations:
    @strawberry.mutation(
        description="Ask the prescriber for a new prescription of a medication with no refills "
        "left or that has expired (`Medication.canRequestRenewal`); not a refill. The patient "
        "or a proxy with MEDICATIONS; the answer comes from the EHR "
        "(`Patient.prescriptionRenewals`, a PRESCRIPTION_RENEWAL_ANSWERED notification)."
    )
    @user_errors(RequestRenewalPayload, RequestRenewalError, RequestRenewalErrorCode)
    async def request_renewal(
        self, info: Info, input: RequestRenewalInput
    ) -> RequestRenewalPayload:
        requested = await r.request_renewal(info.context, input.command())
        return RequestRenewalPayload(
            renewal=PrescriptionRenewal.from_row(requested.renewal, requested.grant),
            medication=Medication.from_row(requested.medication, requested.grant),
        )
