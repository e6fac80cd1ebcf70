"""Issue 16's patient tasks: renewals, profile, legal documents (docs/patient-tasks.md)."""

from __future__ import annotations

import strawberry

from resolvers import legal as legal_r
from resolvers import profile as profile_r
from resolvers import renewals as renewals_r
from schema import legal as legal_s
from schema import profile as profile_s
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

    @strawberry.mutation(
        description="Change the patient's preferred name and pronouns, at once. Self only (a "
        "proxy gets FORBIDDEN); the legal name stays as the clinic's records have it."
    )
    async def update_profile(
        self, info: Info, input: profile_s.UpdateProfileInput
    ) -> profile_s.UpdateProfilePayload:
        return await profile_r.update_profile(info, input)

    @strawberry.mutation(
        description="Accept the current terms of use / privacy notice versions (from "
        "`legalDocuments`); recorded with the version and the time. Allowed while acceptance "
        "is pending (everything else answers TERMS_ACCEPTANCE_REQUIRED)."
    )
    async def accept_legal_documents(
        self, info: Info, input: legal_s.AcceptLegalDocumentsInput
    ) -> legal_s.AcceptLegalDocumentsPayload:
        return await legal_r.accept_legal_documents(info, input)
