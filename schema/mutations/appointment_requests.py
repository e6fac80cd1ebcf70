"""requestAppointment and cancelAppointmentRequest: inputs (decoded into use-case
commands), payloads, error codes and the mutation fields (usecases/appointment_requests.py)."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.appointment_requests import ContactPreference, InvalidId, TimeOfDay, Weekday
from resolvers import appointment_requests as r
from schema.appointment_requests import AppointmentRequest
from schema.base import BadInput, Info, internal_id
from schema.payloads import UserError, user_errors
from usecases import appointment_requests as uc


@strawberry.enum(description="Why an appointment request was refused (nothing was changed).")
class AppointmentRequestErrorCode(Enum):
    INVALID_ID = "INVALID_ID"
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    NOT_PENDING = "NOT_PENDING"
    ALREADY_REQUESTED = "ALREADY_REQUESTED"
    UNKNOWN_PROVIDER = "UNKNOWN_PROVIDER"
    UNKNOWN_DEPARTMENT = "UNKNOWN_DEPARTMENT"


@strawberry.type
class AppointmentRequestError(UserError):
    code: AppointmentRequestErrorCode


@strawberry.input
class RequestAppointmentInput:
    patient_id: strawberry.ID
    visit_type: str = strawberry.field(description="E.g. New Patient, Therapy Session.")
    reason: str = strawberry.field(description="What the visit is for (up to 500 characters).")
    preferred_provider_id: strawberry.ID | None = None
    preferred_department_id: strawberry.ID | None = None
    preferred_days: list[Weekday] = strawberry.field(
        default_factory=list, description="Empty: any day."
    )
    preferred_times_of_day: list[TimeOfDay] = strawberry.field(
        default_factory=list, description="Empty: any time."
    )
    contact_preference: ContactPreference = strawberry.field(
        default=ContactPreference.PORTAL_MESSAGE,
        description="How the clinic should reach the patient to settle the time.",
    )

    def command(self) -> uc.RequestAppointment:
        return uc.RequestAppointment(
            patient_id=_decode(self.patient_id, "Patient", "patientId") or "",
            visit_type=self.visit_type,
            reason=self.reason,
            provider_id=_decode(self.preferred_provider_id, "Provider", "preferredProviderId"),
            department_id=_decode(
                self.preferred_department_id, "Department", "preferredDepartmentId"
            ),
            days=self.preferred_days,
            times=self.preferred_times_of_day,
            contact=self.contact_preference,
        )


@strawberry.input
class CancelAppointmentRequestInput:
    request_id: strawberry.ID

    def command(self) -> uc.CancelRequest:
        return uc.CancelRequest(_decode(self.request_id, "AppointmentRequest", "requestId") or "")


@strawberry.type
class RequestAppointmentPayload:
    request: AppointmentRequest | None = None
    errors: list[AppointmentRequestError] = strawberry.field(default_factory=list)


@strawberry.type
class CancelAppointmentRequestPayload:
    request: AppointmentRequest | None = None
    errors: list[AppointmentRequestError] = strawberry.field(default_factory=list)


ERRORS = (AppointmentRequestError, AppointmentRequestErrorCode)


@strawberry.type
class AppointmentRequestMutations:
    @strawberry.mutation(
        description="Ask the clinic to schedule a visit that cannot be booked online (the "
        "answer to VISIT_TYPE_REQUIRES_REQUEST and to the eligibility refusals of "
        "scheduleAppointment). The patient or a proxy with APPOINTMENTS; the clinic answers "
        "through the EHR (`Patient.appointmentRequests`, `appointmentRequestChanged`)."
    )
    @user_errors(RequestAppointmentPayload, *ERRORS)
    async def request_appointment(
        self, info: Info, input: RequestAppointmentInput
    ) -> RequestAppointmentPayload:
        done = await r.request_appointment(info.context, input.command())
        return RequestAppointmentPayload(
            request=AppointmentRequest.from_row(done.request, done.grant)
        )

    @strawberry.mutation(
        description="Withdraw an appointment request the clinic has not answered yet "
        "(NOT_PENDING otherwise)."
    )
    @user_errors(CancelAppointmentRequestPayload, *ERRORS)
    async def cancel_appointment_request(
        self, info: Info, input: CancelAppointmentRequestInput
    ) -> CancelAppointmentRequestPayload:
        done = await r.cancel_appointment_request(info.context, input.command())
        return CancelAppointmentRequestPayload(
            request=AppointmentRequest.from_row(done.request, done.grant)
        )


def _decode(global_id: str | None, type_name: str, field: str) -> str | None:
    if global_id is None:
        return None
    try:
        return internal_id(global_id, type_name)
    except BadInput:
        raise InvalidId(f"This is not a valid {type_name} id.", field) from None
