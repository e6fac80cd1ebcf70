"""requestAppointment and cancelAppointmentRequest: inputs, payloads and error codes."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.appointment_requests import ContactPreference, TimeOfDay, Weekday
from schema.appointment_requests import AppointmentRequest
from schema.payloads import UserError


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


@strawberry.input
class CancelAppointmentRequestInput:
    request_id: strawberry.ID


@strawberry.type
class RequestAppointmentPayload:
    request: AppointmentRequest | None = None
    errors: list[AppointmentRequestError] = strawberry.field(default_factory=list)


@strawberry.type
class CancelAppointmentRequestPayload:
    request: AppointmentRequest | None = None
    errors: list[AppointmentRequestError] = strawberry.field(default_factory=list)
