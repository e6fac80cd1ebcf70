"""Issue 16's patient tasks: appointment requests, ... (docs/patient-tasks.md)."""

from __future__ import annotations

import strawberry

from resolvers import appointment_requests as requests_r
from resolvers import renewals as renewals_r
from schema import appointment_request_actions as requests_s
from schema import renewals as renewals_s
from schema.base import Info


@strawberry.type
class PatientTaskMutations:
    @strawberry.mutation(
        description="Ask the clinic to schedule a visit that cannot be booked online (the "
        "answer to VISIT_TYPE_REQUIRES_REQUEST and to the eligibility refusals of "
        "scheduleAppointment). The patient or a proxy with APPOINTMENTS; the clinic answers "
        "through the EHR (`Patient.appointmentRequests`, `appointmentRequestChanged`)."
    )
    async def request_appointment(
        self, info: Info, input: requests_s.RequestAppointmentInput
    ) -> requests_s.RequestAppointmentPayload:
        return await requests_r.request_appointment(info, input)

    @strawberry.mutation(
        description="Withdraw an appointment request the clinic has not answered yet "
        "(NOT_PENDING otherwise)."
    )
    async def cancel_appointment_request(
        self, info: Info, input: requests_s.CancelAppointmentRequestInput
    ) -> requests_s.CancelAppointmentRequestPayload:
        return await requests_r.cancel_appointment_request(info, input)

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
