"""Booking and managing appointments (rules: domain/appointments.py)."""

from __future__ import annotations

import strawberry

from resolvers import appointment_actions as r
from schema import appointment_actions as s
from schema.base import Info


@strawberry.type
class AppointmentMutations:
    @strawberry.mutation(
        description="Book an open slot for a patient (self, or a patient whose APPOINTMENTS the "
        "viewer may manage). Only visit types the department lets patients book online; "
        "others give VISIT_TYPE_REQUIRES_REQUEST: ask with requestAppointment "
        "instead. Of concurrent bookings of one slot exactly "
        "one succeeds; the others get SLOT_TAKEN."
    )
    async def schedule_appointment(
        self, info: Info, input: s.ScheduleAppointmentInput
    ) -> s.ScheduleAppointmentPayload:
        return await r.schedule_appointment(info, input)

    @strawberry.mutation(
        description="Move an appointment to another open slot, all or nothing: the old slot "
        "is freed only if the new one is taken. Refused from `cancelDeadline` on "
        "(TOO_LATE_TO_RESCHEDULE, with the clinic's phone number)."
    )
    async def reschedule_appointment(
        self, info: Info, input: s.RescheduleAppointmentInput
    ) -> s.RescheduleAppointmentPayload:
        return await r.reschedule_appointment(info, input)

    @strawberry.mutation(
        description="Cancel an appointment and free its slot. Refused from `cancelDeadline` on "
        "(TOO_LATE_TO_CANCEL, with the clinic's phone number)."
    )
    async def cancel_appointment(
        self, info: Info, input: s.CancelAppointmentInput
    ) -> s.CancelAppointmentPayload:
        return await r.cancel_appointment(info, input)

    @strawberry.mutation(description="Confirm a scheduled appointment.")
    async def confirm_appointment(
        self, info: Info, input: s.ConfirmAppointmentInput
    ) -> s.ConfirmAppointmentPayload:
        return await r.confirm_appointment(info, input)

    @strawberry.mutation(
        description="eCheck-in: questionnaire answers, contact and insurance confirmation. "
        "Open from `checkInOpensAt` until the start (CHECK_IN_NOT_OPEN, CHECK_IN_CLOSED)."
    )
    async def check_in(self, info: Info, input: s.CheckInInput) -> s.CheckInPayload:
        return await r.check_in(info, input)
