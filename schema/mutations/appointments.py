"""Booking and managing appointments: inputs (decoded into use-case commands), payloads,
their error codes and the mutation fields (rules: domain/appointments.py; writes:
usecases/appointments.py)."""

from __future__ import annotations

from collections.abc import Awaitable
from enum import Enum
from typing import TypeVar

import strawberry
from strawberry.file_uploads import Upload

from domain import appointments as rules
from resolvers import appointments as r
from schema.appointments import Appointment, Slot
from schema.attachments import Attachment, uploaded
from schema.base import BadInput, Info, internal_id
from schema.payloads import UserError, user_errors
from usecases import appointments as uc


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

    def command(self) -> uc.Schedule:
        return uc.Schedule(
            patient_id=_decode(self.patient_id, "Patient", "patientId"),
            slot_id=_decode(self.slot_id, "Slot", "slotId"),
            visit_type=self.visit_type,
            reason=self.reason,
        )


@strawberry.input
class RescheduleAppointmentInput:
    appointment_id: strawberry.ID
    slot_id: strawberry.ID = strawberry.field(description="An open slot offering the visit type.")

    def command(self) -> uc.Reschedule:
        return uc.Reschedule(
            _appointment_id(self.appointment_id), _decode(self.slot_id, "Slot", "slotId")
        )


@strawberry.input
class CancelAppointmentInput:
    appointment_id: strawberry.ID
    reason: str | None = None

    def command(self) -> uc.Cancel:
        return uc.Cancel(_appointment_id(self.appointment_id), self.reason)


@strawberry.input
class ConfirmAppointmentInput:
    appointment_id: strawberry.ID

    def command(self) -> uc.Confirm:
        return uc.Confirm(_appointment_id(self.appointment_id))


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

    def command(self) -> uc.CheckIn:
        """The card is read and checked after authorization (resolvers/appointments.py)."""
        return uc.CheckIn(
            _appointment_id(self.appointment_id),
            tuple(rules.CheckInAnswer(a.question_id, a.answer) for a in self.answers),
            self.contact_confirmed,
            self.insurance_confirmed,
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


# -- the mutations ---------------------------------------------------------------------------
ERRORS = (AppointmentError, AppointmentErrorCode)
Answered = TypeVar("Answered")


@strawberry.type
class AppointmentMutations:
    @strawberry.mutation(
        description="Book an open slot for a patient (self, or a patient whose APPOINTMENTS the "
        "viewer may manage). Only visit types the department lets patients book online; "
        "others give VISIT_TYPE_REQUIRES_REQUEST: ask with requestAppointment "
        "instead. Of concurrent bookings of one slot exactly "
        "one succeeds; the others get SLOT_TAKEN."
    )
    @user_errors(ScheduleAppointmentPayload, *ERRORS)
    async def schedule_appointment(
        self, info: Info, input: ScheduleAppointmentInput
    ) -> ScheduleAppointmentPayload:
        booked = await _own_answered(info, r.schedule_appointment(info.context, input.command()))
        return ScheduleAppointmentPayload(
            appointment=_appointment(info, booked), slot=Slot.from_row(booked.slot)
        )

    @strawberry.mutation(
        description="Move an appointment to another open slot, all or nothing: the old slot "
        "is freed only if the new one is taken. Refused from `cancelDeadline` on "
        "(TOO_LATE_TO_RESCHEDULE, with the clinic's phone number)."
    )
    @user_errors(RescheduleAppointmentPayload, *ERRORS)
    async def reschedule_appointment(
        self, info: Info, input: RescheduleAppointmentInput
    ) -> RescheduleAppointmentPayload:
        moved = await _own_answered(info, r.reschedule_appointment(info.context, input.command()))
        return RescheduleAppointmentPayload(
            appointment=_appointment(info, moved),
            slot=Slot.from_row(moved.slot),
            freed_slot=Slot.from_row(moved.freed_slot) if moved.freed_slot else None,
        )

    @strawberry.mutation(
        description="Cancel an appointment and free its slot. Refused from `cancelDeadline` on "
        "(TOO_LATE_TO_CANCEL, with the clinic's phone number)."
    )
    @user_errors(CancelAppointmentPayload, *ERRORS)
    async def cancel_appointment(
        self, info: Info, input: CancelAppointmentInput
    ) -> CancelAppointmentPayload:
        cancelled = await r.cancel_appointment(info.context, input.command())
        return CancelAppointmentPayload(
            appointment=_appointment(info, cancelled),
            freed_slot=Slot.from_row(cancelled.freed_slot) if cancelled.freed_slot else None,
        )

    @strawberry.mutation(description="Confirm a scheduled appointment.")
    @user_errors(ConfirmAppointmentPayload, *ERRORS)
    async def confirm_appointment(
        self, info: Info, input: ConfirmAppointmentInput
    ) -> ConfirmAppointmentPayload:
        confirmed = await r.confirm_appointment(info.context, input.command())
        return ConfirmAppointmentPayload(appointment=_appointment(info, confirmed))

    @strawberry.mutation(
        description="eCheck-in: questionnaire answers, contact and insurance confirmation. "
        "Open from `checkInOpensAt` until the start (CHECK_IN_NOT_OPEN, CHECK_IN_CLOSED)."
    )
    @user_errors(CheckInPayload, *ERRORS)
    async def check_in(self, info: Info, input: CheckInInput) -> CheckInPayload:
        card_upload = uploaded(input.insurance_card) if input.insurance_card is not None else None
        done = await r.check_in(info.context, input.command(), card_upload)
        card = done.insurance_card
        return CheckInPayload(
            appointment=_appointment(info, done),
            insurance_card=Attachment.from_row(card) if card else None,
        )


def _decode(global_id: str, type_name: str, field: str) -> str:
    try:
        return internal_id(global_id, type_name)
    except BadInput:
        raise rules.InvalidId(f"This is not a valid {type_name} id.", field) from None


def _appointment_id(global_id: str) -> str:
    return _decode(global_id, "Appointment", "appointmentId")


def _appointment(info: Info, changed: uc.Changed | uc.AlreadyBooked) -> Appointment:
    return Appointment.from_row(changed.appointment, changed.grant, info)


async def _own_answered(info: Info, write: Awaitable[Answered]) -> Answered:
    """ALREADY_BOOKED answers the patient's own appointment that holds the slot."""
    try:
        return await write
    except uc.AlreadyBooked as exc:
        raise exc.with_payload(appointment=_appointment(info, exc)) from None
