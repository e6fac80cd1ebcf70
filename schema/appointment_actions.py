"""Booking and managing appointments: inputs, payloads and their error codes."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.file_uploads import Upload

from schema.appointments import Appointment, Slot
from schema.attachments import Attachment
from schema.payloads import UserError


@strawberry.enum(description="Why an appointment action was refused (nothing was changed).")
class AppointmentErrorCode(Enum):
    INVALID_ID = "INVALID_ID"
    INVALID_INPUT = "INVALID_INPUT"
    SLOT_NOT_FOUND = "SLOT_NOT_FOUND"
    SLOT_TAKEN = "SLOT_TAKEN"
    ALREADY_BOOKED = "ALREADY_BOOKED"
    SLOT_IN_PAST = "SLOT_IN_PAST"
    VISIT_TYPE_NOT_OFFERED = "VISIT_TYPE_NOT_OFFERED"
    VISIT_TYPE_REQUIRES_REQUEST = "VISIT_TYPE_REQUIRES_REQUEST"
    NOT_ELIGIBLE_AGE = "NOT_ELIGIBLE_AGE"
    NOT_ELIGIBLE_SEX = "NOT_ELIGIBLE_SEX"
    ESTABLISHED_PATIENTS_ONLY = "ESTABLISHED_PATIENTS_ONLY"
    PROVIDER_NOT_ACCEPTING_NEW_PATIENTS = "PROVIDER_NOT_ACCEPTING_NEW_PATIENTS"
    NOT_ACTIVE = "NOT_ACTIVE"
    TOO_LATE_TO_CANCEL = "TOO_LATE_TO_CANCEL"
    TOO_LATE_TO_RESCHEDULE = "TOO_LATE_TO_RESCHEDULE"
    ALREADY_CONFIRMED = "ALREADY_CONFIRMED"
    ALREADY_STARTED = "ALREADY_STARTED"
    CHECK_IN_NOT_OPEN = "CHECK_IN_NOT_OPEN"
    CHECK_IN_CLOSED = "CHECK_IN_CLOSED"
    ALREADY_CHECKED_IN = "ALREADY_CHECKED_IN"
    CONFIRMATION_REQUIRED = "CONFIRMATION_REQUIRED"
    APPOINTMENT_CHANGED = "APPOINTMENT_CHANGED"
    ATTACHMENT_TOO_LARGE = "ATTACHMENT_TOO_LARGE"
    ATTACHMENT_TYPE_NOT_ALLOWED = "ATTACHMENT_TYPE_NOT_ALLOWED"
    FORMS_DUE = "FORMS_DUE"  # a required questionnaire or consent is not done; named
    UNKNOWN_QUESTIONS = "UNKNOWN_QUESTIONS"  # answers to questions the forms do not ask


@strawberry.type
class AppointmentError(UserError):
    code: AppointmentErrorCode


# -- inputs ----------------------------------------------------------------------------------
@strawberry.input
class ScheduleAppointmentInput:
    patient_id: strawberry.ID
    slot_id: strawberry.ID
    visit_type: str = strawberry.field(description="One of the slot's `visitTypes`.")
    reason: str | None = None


@strawberry.input
class RescheduleAppointmentInput:
    appointment_id: strawberry.ID
    slot_id: strawberry.ID = strawberry.field(description="An open slot offering the visit type.")


@strawberry.input
class CancelAppointmentInput:
    appointment_id: strawberry.ID
    reason: str | None = None


@strawberry.input
class ConfirmAppointmentInput:
    appointment_id: strawberry.ID


@strawberry.input
class CheckInAnswerInput:
    question_id: str
    answer: str


@strawberry.input
class CheckInInput:
    appointment_id: strawberry.ID
    answers: list[CheckInAnswerInput] = strawberry.field(default_factory=list)
    contact_confirmed: bool = strawberry.field(
        description="The patient confirms their address and phone on file are current."
    )
    insurance_confirmed: bool = strawberry.field(
        description="The patient confirms the insurance on file is current."
    )
    insurance_card: Upload | None = strawberry.field(
        default=None,
        description="A photo or scan of the insurance card (GraphQL multipart request spec): "
        "gif, png, tiff or jpeg by content, up to the attachment size limit.",
    )


# -- payloads --------------------------------------------------------------------------------
@strawberry.type
class ScheduleAppointmentPayload:
    appointment: Appointment | None = strawberry.field(
        default=None,
        description="The new appointment; with ALREADY_BOOKED, the patient's own appointment "
        "that already holds the slot.",
    )
    slot: Slot | None = strawberry.field(default=None, description="The slot now taken.")
    errors: list[AppointmentError] = strawberry.field(default_factory=list)


@strawberry.type
class RescheduleAppointmentPayload:
    appointment: Appointment | None = strawberry.field(
        default=None,
        description="The moved appointment; with ALREADY_BOOKED, the patient's own "
        "appointment that already holds the slot.",
    )
    slot: Slot | None = strawberry.field(default=None, description="The slot now taken.")
    freed_slot: Slot | None = strawberry.field(
        default=None, description="The slot the appointment held before, open again."
    )
    errors: list[AppointmentError] = strawberry.field(default_factory=list)


@strawberry.type
class CancelAppointmentPayload:
    appointment: Appointment | None = None
    freed_slot: Slot | None = strawberry.field(
        default=None, description="The slot the appointment held, open again."
    )
    errors: list[AppointmentError] = strawberry.field(default_factory=list)


@strawberry.type
class ConfirmAppointmentPayload:
    appointment: Appointment | None = None
    errors: list[AppointmentError] = strawberry.field(default_factory=list)


@strawberry.type
class CheckInPayload:
    appointment: Appointment | None = None
    insurance_card: Attachment | None = strawberry.field(
        default=None, description="The card image sent with this check-in, if any."
    )
    errors: list[AppointmentError] = strawberry.field(default_factory=list)
