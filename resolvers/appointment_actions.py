"""scheduleAppointment, rescheduleAppointment, cancelAppointment, confirmAppointment, checkIn.

Each: authorize (the APPOINTMENTS area of that patient, audited as a write) -> validate ->
the domain rule (domain/appointments.py, the same functions that compute `canCancel` & co)
-> one transaction of conditional writes (persistence/appointments.py) with its
APPOINTMENT_CHANGED outbox event -> the payload.

Notifications: these are changes the patient (or their proxy) makes themselves, so they record
the APPOINTMENT_CHANGED event (live `appointmentChanged` subscribers, the patient's other
sessions and proxies, see it) but add no notification; changes made on the clinic's side (the
EHR feed) and reminders notify.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain import appointments as rules
from domain.access import PatientGrant
from domain.errors import BrokenInvariant, DomainError
from domain.events import EventKind
from domain.scopes import RecordArea
from persistence.appointments import StoredAppointment, StoredSlot
from persistence.uow import UnitOfWork
from resolvers.payloads import user_errors
from schema import appointment_actions as s
from schema.appointments import Appointment, Slot
from schema.attachments import Attachment, uploaded
from schema.base import BadInput, internal_id
from usecases import attachments as attachments_uc
from usecases import eligibility
from usecases.questionnaires import forms_due

if TYPE_CHECKING:
    from schema.base import Info

ERRORS = (s.AppointmentError, s.AppointmentErrorCode)


# -- the mutations ---------------------------------------------------------------------------
@user_errors(s.ScheduleAppointmentPayload, *ERRORS)
async def schedule_appointment(
    info: Info, input: s.ScheduleAppointmentInput
) -> s.ScheduleAppointmentPayload:
    ctx = info.context
    patient_id = _decode(input.patient_id, "Patient", "patientId")
    grant = ctx.act(patient_id, RecordArea.APPOINTMENTS, "Appointment")
    slot_id = _decode(input.slot_id, "Slot", "slotId")
    reason = rules.validate_reason(input.reason)
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        slot = await uow.appointments.slot(slot_id)
        if slot is None:
            raise rules.SlotNotFound(field="slotId")
        await _refuse_own(info, uow, slot.appointment_id, grant)
        _refuse(rules.booking_refusal(slot.facts, input.visit_type, ctx.now, _policy(info)))
        _refuse(await _eligibility(info, uow, grant, slot, input.visit_type))
        appointment_id = await uow.appointments.book(
            patient_id=grant.patient_id, slot=slot, visit_type=input.visit_type, reason=reason
        )
        if appointment_id is None:  # another booking took it since we looked
            taken_by = await uow.appointments.slot(slot.id)
            await _refuse_own(info, uow, taken_by.appointment_id if taken_by else None, grant)
            raise rules.SlotTaken(field="slotId")
        _record(info, uow, appointment_id, grant, "scheduled", {"slotId": slot.id})
        payload = s.ScheduleAppointmentPayload(
            appointment=await _appointment(info, uow, appointment_id, grant),
            slot=Slot.from_row(await uow.appointments.slot_row(slot.id)),
        )
        await uow.commit()
    return payload


@user_errors(s.RescheduleAppointmentPayload, *ERRORS)
async def reschedule_appointment(
    info: Info, input: s.RescheduleAppointmentInput
) -> s.RescheduleAppointmentPayload:
    ctx = info.context
    uow = UnitOfWork(ctx.services.sessions)
    grant, appointment_id = await _act_on(info, uow, input.appointment_id)
    slot_id = _decode(input.slot_id, "Slot", "slotId")
    async with uow:
        appt = await _stored(uow, appointment_id)
        phone = await uow.appointments.clinic_phone(appt.department_id)
        _refuse(rules.reschedule_refusal(appt.facts, ctx.now, _policy(info), phone))
        slot = await uow.appointments.slot(slot_id)
        if slot is None:
            raise rules.SlotNotFound(field="slotId")
        await _refuse_own(info, uow, slot.appointment_id, grant)
        _refuse(rules.new_slot_refusal(appt.facts, slot.facts, ctx.now, _policy(info)))
        _refuse(await _eligibility(info, uow, grant, slot, appt.visit_type))
        unchanged, taken, freed = await uow.appointments.reschedule(appt, slot)
        if not unchanged:
            raise rules.AppointmentChanged()
        if not taken:  # rolled back: the old slot and time stay as they were
            taken_by = await uow.appointments.slot(slot.id)
            await _refuse_own(info, uow, taken_by.appointment_id if taken_by else None, grant)
            raise rules.SlotTaken(field="slotId")
        detail = {
            "fromStartsAt": appt.starts_at.isoformat(),
            "fromSlotId": freed,
            "slotId": slot.id,
        }
        _record(info, uow, appt.id, grant, "rescheduled", detail)
        payload = s.RescheduleAppointmentPayload(
            appointment=await _appointment(info, uow, appt.id, grant),
            slot=Slot.from_row(await uow.appointments.slot_row(slot.id)),
            freed_slot=Slot.from_row(await uow.appointments.slot_row(freed)) if freed else None,
        )
        await uow.commit()
    return payload


@user_errors(s.CancelAppointmentPayload, *ERRORS)
async def cancel_appointment(
    info: Info, input: s.CancelAppointmentInput
) -> s.CancelAppointmentPayload:
    ctx = info.context
    uow = UnitOfWork(ctx.services.sessions)
    grant, appointment_id = await _act_on(info, uow, input.appointment_id)
    reason = rules.validate_reason(input.reason)
    async with uow:
        appt = await _stored(uow, appointment_id)
        phone = await uow.appointments.clinic_phone(appt.department_id)
        _refuse(rules.cancel_refusal(appt.facts, ctx.now, _policy(info), phone))
        unchanged, freed = await uow.appointments.cancel(appt)
        if not unchanged:
            raise rules.AppointmentChanged()
        _record(info, uow, appt.id, grant, "cancelled", {"reason": reason, "slotId": freed})
        payload = s.CancelAppointmentPayload(
            appointment=await _appointment(info, uow, appt.id, grant),
            freed_slot=Slot.from_row(await uow.appointments.slot_row(freed)) if freed else None,
        )
        await uow.commit()
    return payload


@user_errors(s.ConfirmAppointmentPayload, *ERRORS)
async def confirm_appointment(
    info: Info, input: s.ConfirmAppointmentInput
) -> s.ConfirmAppointmentPayload:
    ctx = info.context
    uow = UnitOfWork(ctx.services.sessions)
    grant, appointment_id = await _act_on(info, uow, input.appointment_id)
    async with uow:
        appt = await _stored(uow, appointment_id)
        _refuse(rules.confirm_refusal(appt.facts, ctx.now, _policy(info)))
        if not await uow.appointments.confirm(appt):
            raise rules.AppointmentChanged()
        _record(info, uow, appt.id, grant, "confirmed", {})
        row = await _appointment(info, uow, appt.id, grant)
        await uow.commit()
    return s.ConfirmAppointmentPayload(appointment=row)


@user_errors(s.CheckInPayload, *ERRORS)
async def check_in(info: Info, input: s.CheckInInput) -> s.CheckInPayload:
    ctx = info.context
    uow = UnitOfWork(ctx.services.sessions)
    grant, appointment_id = await _act_on(info, uow, input.appointment_id)
    answers = rules.validate_check_in(
        [rules.CheckInAnswer(a.question_id, a.answer) for a in input.answers],
        input.contact_confirmed,
        input.insurance_confirmed,
    )
    upload = uploaded(input.insurance_card) if input.insurance_card is not None else None
    card = await attachments_uc.insurance_card(upload, ctx.services.settings.messaging.attachments)
    async with attachments_uc.stored(ctx.services.files, card) as keys, uow:
        appt = await _stored(uow, appointment_id)
        _refuse(rules.check_in_refusal(appt.facts, ctx.now, _policy(info)))
        _refuse(await forms_due(uow, grant, appt.id))
        checked_in = await uow.appointments.check_in(
            appt,
            account_id=ctx.require_principal().account_id,
            answers=answers,
            contact_confirmed=input.contact_confirmed,
            insurance_confirmed=input.insurance_confirmed,
            now=ctx.now,
        )
        if not checked_in:
            raise rules.AppointmentChanged()
        cards = uow.messages.add_attachments(
            grant, card, keys, grant.account_id, ctx.now, appointment_id=appt.id
        )
        _record(info, uow, appt.id, grant, "checked_in", {"answers": len(answers)})
        row = await _appointment(info, uow, appt.id, grant)
        await uow.commit()
    return s.CheckInPayload(
        appointment=row, insurance_card=Attachment.from_row(cards[0]) if cards else None
    )


# -- the steps -------------------------------------------------------------------------------
def _policy(info: Info) -> rules.AppointmentPolicy:
    return info.context.services.settings.appointments


async def _eligibility(
    info: Info, uow: UnitOfWork, grant: PatientGrant, slot: StoredSlot, visit_type: str
) -> DomainError | None:
    """Age, sex, established patients, panels: NOT_ELIGIBLE_AGE & co, "request instead"."""
    settings = info.context.services.settings
    return await eligibility.slot_refusal(
        uow, grant, slot, visit_type, info.context.now, settings.appointments, settings.ages
    )


def _decode(global_id: str, type_name: str, field: str) -> str:
    try:
        return internal_id(global_id, type_name)
    except BadInput:
        raise rules.InvalidId(f"This is not a valid {type_name} id.", field) from None


def _refuse(refusal: DomainError | None) -> None:
    if refusal is not None:
        raise refusal


async def _refuse_own(info: Info, uow: UnitOfWork, holder: str | None, grant: PatientGrant) -> None:
    """A slot the patient's own appointment holds is not "taken by someone else": say so,
    with that appointment (it is the same patient's APPOINTMENTS area the grant covers)."""
    if holder is None or await uow.appointments.owner(holder) != grant.patient_id:
        return
    own = await _appointment(info, uow, holder, grant)
    raise rules.AlreadyBooked(field="slotId").with_payload(appointment=own)


async def _act_on(info: Info, uow: UnitOfWork, global_id: str) -> tuple[PatientGrant, str]:
    """Authorize a change to an appointment: the APPOINTMENTS area of its patient. An unknown
    appointment is refused like a forbidden one, so ids reveal nothing."""
    appointment_id = _decode(global_id, "Appointment", "appointmentId")
    info.context.require_principal()
    async with uow:
        owner = await uow.appointments.owner(appointment_id)
    return info.context.act(owner or "", RecordArea.APPOINTMENTS, "Appointment"), appointment_id


async def _stored(uow: UnitOfWork, appointment_id: str) -> StoredAppointment:
    appt = await uow.appointments.appointment(appointment_id)
    if appt is None:
        raise BrokenInvariant(
            "appt is None: its owner was found a moment ago, and appointments stay"
        )
    return appt


def _record(
    info: Info,
    uow: UnitOfWork,
    appointment_id: str,
    grant: PatientGrant,
    change: str,
    detail: dict[str, Any],
) -> None:
    """The change's trace and event, in its transaction: gone with it if it rolls back."""
    ctx = info.context
    uow.appointments.log_change(
        appointment_id,
        account_id=ctx.require_principal().account_id,
        change=change,
        detail=detail,
        now=ctx.now,
    )
    uow.outbox.record(
        EventKind.APPOINTMENT_CHANGED,
        object_id=appointment_id,
        patient_id=grant.patient_id,
        now=ctx.now,
        payload={"change": change},
    )


async def _appointment(
    info: Info, uow: UnitOfWork, appointment_id: str, grant: PatientGrant
) -> Appointment:
    return Appointment.from_row(await uow.appointments.appointment_row(appointment_id), grant, info)
