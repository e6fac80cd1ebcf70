"""Issue 16's patient tasks: prescription renewals (docs/patient-tasks.md)."""

from __future__ import annotations

import strawberry

from resolvers import renewals as renewals_r
from schema import renewals as renewals_s
from schema.base import Info


@strawberry.type
class PatientTaskMutations:
    @strawberry.mutation(
        description="Ask the prescriber for a new prescription of a medication with no refills "
        "left or that has expired (`Medication.canRequestRenewal`); not a refill. The patient "
        "or a proxy with MEDICATIONS; the answer comes from the EHR "
        "(`Patient.prescriptionRenewals`, a PRESCRIPTION_RENEWAL_ANSWERED notification)."
    )
    async def request_renewal(
        self, info: Info, input: renewals_s.RequestRenewalInput
    ) -> renewals_s.RequestRenewalPayload:
        return await renewals_r.request_renewal(info, input)
