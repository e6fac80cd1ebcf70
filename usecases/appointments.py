"""Booking and managing appointments: schedule, reschedule, cancel, confirm, check in.

Each: (authorized by the caller: the APPOINTMENTS grant of the appointment's patient) ->
validate -> the domain rule (domain/appointments.py, the same functions that compute
`canCancel` & co; eligibility from domain/eligibility.py) -> one transaction of conditional
writes (persistence/appointments.py) with its change log row and APPOINTMENT_CHANGED outbox
event -> the rows the answer is built from.

Of concurrent bookings of one slot exactly one wins: the slot is taken by a conditional
UPDATE (persistence/appointments.py), and the losers get SLOT_TAKEN (or ALREADY_BOOKED when
the winner is the same patient's own appointment).

Notifications: these are changes the patient (or their proxy) makes themselves, so they record
the APPOINTMENT_CHANGED event (live `appointmentChanged` subscribers, the patient's other
sessions and proxies, see it) but add no notification; changes made on the clinic's side (the
EHR feed) and reminders notify.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from domain import appointments as rules
from domain.access import AgePolicy, PatientGrant
from domain.attachments import AcceptedFile
from domain.clock import Clock
from domain.eligibility import eligibility_refusal
from domain.errors import BrokenInvariant, DomainError
from domain.events import EventKind
from persistence import eligibility as facts
from persistence import models as m
from persistence.appointments import StoredAppointment, StoredSlot
from persistence.files import FileStore
from persistence.uow import UnitOfWork
from usecases.questionnaires import forms_due


# -- commands --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Schedule:
    patient_id: str
    slot_id: str
    visit_type: str
    reason: str | None = None


@dataclass(frozen=True)
class Reschedule:
    appointment_id: str
    slot_id: str


@dataclass(frozen=True)
class Cancel:
    appointment_id: str
    reason: str | None = None


@dataclass(frozen=True)
class Confirm:
    appointment_id: str


@dataclass(frozen=True)
class CheckIn:
    appointment_id: str
    answers: tuple[rules.CheckInAnswer, ...]
    contact_confirmed: bool
    insurance_confirmed: bool
    # The insurance card image, read and accepted (domain/attachments.py) at the edge.
    insurance_card: tuple[AcceptedFile, ...] = ()


@dataclass(frozen=True)
class Policies:
    """The rules' settings: booking windows, visit types, eligibility; ages for age limits."""

    appointments: rules.AppointmentPolicy
    ages: AgePolicy


# -- results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Changed:
    """The appointment a write changed (as stored after it), and the grant it acted under."""

    appointment: m.Appointment
    grant: PatientGrant


@dataclass(frozen=True)
class Booked(Changed):
    slot: m.Slot


@dataclass(frozen=True)
class Moved(Changed):
    slot: m.Slot
    freed_slot: m.Slot | None


@dataclass(frozen=True)
class Cancelled(Changed):
    freed_slot: m.Slot | None


@dataclass(frozen=True)
class CheckedIn(Changed):
    insurance_card: m.Attachment | None


class AlreadyBooked(rules.AlreadyBooked):
    """ALREADY_BOOKED, carrying the patient's own appointment that holds the slot (the
    mutation answers it in its payload)."""

    def __init__(self, appointment: m.Appointment, grant: PatientGrant) -> None:
        super().__init__(field="slotId")
        self.appointment = appointment
        self.grant = grant


# -- the writes ------------------------------------------------------------------------------
async def schedule(
    command: Schedule, grant: PatientGrant, uow: UnitOfWork, clock: Clock, policies: Policies
) -> Booked:
    """`grant`: the APPOINTMENTS grant of `command.patient_id`, acted on (audited as a write)."""
    now = clock.now()
    reason = rules.validate_reason(command.reason)
    async with uow:
        slot = await uow.appointments.slot(command.slot_id)
        if slot is None:
            raise rules.SlotNotFound(field="slotId")
        await _refuse_own(uow, slot.appointment_id, grant)
        policy = policies.appointments
        _refuse(rules.booking_refusal(slot.facts, command.visit_type, now, policy))
        _refuse(await _eligibility(uow, grant, slot, command.visit_type, clock, policies))
        appointment_id = await uow.appointments.book(
            patient_id=grant.patient_id, slot=slot, visit_type=command.visit_type, reason=reason
        )
        if appointment_id is None:  # another booking took it since we looked
            await _refuse_taken(uow, slot.id, grant)
        _record(uow, appointment_id, grant, now, "scheduled", {"slotId": slot.id})
        booked = Booked(
            appointment=await uow.appointments.appointment_row(appointment_id),
            grant=grant,
            slot=await uow.appointments.slot_row(slot.id),
        )
        await uow.commit()
    return booked


async def reschedule(
    command: Reschedule, grant: PatientGrant, uow: UnitOfWork, clock: Clock, policies: Policies
) -> Moved:
    """All or nothing: the old slot is freed only if the new one is taken."""
    now, policy = clock.now(), policies.appointments
    async with uow:
        appt = await _stored(uow, command.appointment_id)
        phone = await uow.appointments.clinic_phone(appt.department_id)
        _refuse(rules.reschedule_refusal(appt.facts, now, policy, phone))
        slot = await uow.appointments.slot(command.slot_id)
        if slot is None:
            raise rules.SlotNotFound(field="slotId")
        await _refuse_own(uow, slot.appointment_id, grant)
        _refuse(rules.new_slot_refusal(appt.facts, slot.facts, now, policy))
        _refuse(await _eligibility(uow, grant, slot, appt.visit_type, clock, policies))
        unchanged, taken, freed = await uow.appointments.reschedule(appt, slot)
        if not unchanged:
            raise rules.AppointmentChanged()
        if not taken:  # rolled back: the old slot and time stay as they were
            await _refuse_taken(uow, slot.id, grant)
        detail = {
            "fromStartsAt": appt.starts_at.isoformat(),
            "fromSlotId": freed,
            "slotId": slot.id,
        }
        _record(uow, appt.id, grant, now, "rescheduled", detail)
        moved = Moved(
            appointment=await uow.appointments.appointment_row(appt.id),
            grant=grant,
            slot=await uow.appointments.slot_row(slot.id),
            freed_slot=await _slot_row(uow, freed),
        )
        await uow.commit()
    return moved


async def cancel(
    command: Cancel, grant: PatientGrant, uow: UnitOfWork, clock: Clock, policies: Policies
) -> Cancelled:
    now = clock.now()
    reason = rules.validate_reason(command.reason)
    async with uow:
        appt = await _stored(uow, command.appointment_id)
        phone = await uow.appointments.clinic_phone(appt.department_id)
        _refuse(rules.cancel_refusal(appt.facts, now, policies.appointments, phone))
        unchanged, freed = await uow.appointments.cancel(appt)
        if not unchanged:
            raise rules.AppointmentChanged()
        _record(uow, appt.id, grant, now, "cancelled", {"reason": reason, "slotId": freed})
        cancelled = Cancelled(
            appointment=await uow.appointments.appointment_row(appt.id),
            grant=grant,
            freed_slot=await _slot_row(uow, freed),
        )
        await uow.commit()
    return cancelled


async def confirm(
    command: Confirm, grant: PatientGrant, uow: UnitOfWork, clock: Clock, policies: Policies
) -> Changed:
    now = clock.now()
    async with uow:
        appt = await _stored(uow, command.appointment_id)
        _refuse(rules.confirm_refusal(appt.facts, now, policies.appointments))
        if not await uow.appointments.confirm(appt):
            raise rules.AppointmentChanged()
        _record(uow, appt.id, grant, now, "confirmed", {})
        confirmed = Changed(await uow.appointments.appointment_row(appt.id), grant)
        await uow.commit()
    return confirmed


async def check_in(
    command: CheckIn,
    grant: PatientGrant,
    uow: UnitOfWork,
    clock: Clock,
    policies: Policies,
    files: FileStore,
) -> CheckedIn:
    """eCheck-in; the card image is stored first and removed again if nothing commits."""
    now = clock.now()
    answers = rules.validate_check_in(
        list(command.answers), command.contact_confirmed, command.insurance_confirmed
    )
    card = command.insurance_card
    async with files.kept(card) as keys, uow:
        appt = await _stored(uow, command.appointment_id)
        _refuse(rules.check_in_refusal(appt.facts, now, policies.appointments))
        _refuse(await forms_due(uow, grant, appt.id, [(a.question_id, a.answer) for a in answers]))
        checked_in = await uow.appointments.check_in(
            appt,
            account_id=grant.account_id,
            answers=answers,
            contact_confirmed=command.contact_confirmed,
            insurance_confirmed=command.insurance_confirmed,
            now=now,
        )
        if not checked_in:
            raise rules.AppointmentChanged()
        cards = uow.messages.add_attachments(
            grant, card, keys, grant.account_id, now, appointment_id=appt.id
        )
        _record(uow, appt.id, grant, now, "checked_in", {"answers": len(answers)})
        row = await uow.appointments.appointment_row(appt.id)
        await uow.commit()
    return CheckedIn(row, grant, insurance_card=cards[0] if cards else None)


async def appointment_owner(uow: UnitOfWork, appointment_id: str) -> str | None:
    """Whose appointment this is (None: unknown), read before authorizing a change to it."""
    async with uow:
        return await uow.appointments.owner(appointment_id)


# -- the steps -------------------------------------------------------------------------------
async def _eligibility(
    uow: UnitOfWork,
    grant: PatientGrant,
    slot: StoredSlot,
    visit_type: str,
    clock: Clock,
    policies: Policies,
) -> DomainError | None:
    """Age, sex, established patients, panels: NOT_ELIGIBLE_AGE & co, "request instead".
    The patient's visit history is read through `grant` (their APPOINTMENTS)."""
    now, session = clock.now(), uow.session
    patient = await facts.patient_facts(session, grant, now)
    department = (await facts.departments(session))[slot.department_id]
    provider = await session.get(m.Provider, slot.provider_id)
    accepts = provider.accepts_new_patients if provider is not None else True
    return eligibility_refusal(
        patient,
        visit_type,
        department,
        slot.provider_id,
        accepts,
        policies.ages.today(slot.starts_at),
        now,
        policies.appointments.eligibility,
    )


def _refuse(refusal: DomainError | None) -> None:
    if refusal is not None:
        raise refusal


async def _refuse_own(uow: UnitOfWork, holder: str | None, grant: PatientGrant) -> None:
    """A slot the patient's own appointment holds is not "taken by someone else": say so,
    with that appointment (it is the same patient's APPOINTMENTS area the grant covers)."""
    if holder is None or await uow.appointments.owner(holder) != grant.patient_id:
        return
    own = await uow.appointments.appointment_row(holder)
    uow.session.expunge(own)  # kept as read: the refusal rolls the transaction back
    raise AlreadyBooked(own, grant)


async def _refuse_taken(uow: UnitOfWork, slot_id: str, grant: PatientGrant) -> NoReturn:
    """The conditional write found the slot taken: ALREADY_BOOKED if by the patient's own
    appointment, SLOT_TAKEN otherwise. Always raises."""
    taken_by = await uow.appointments.slot(slot_id)
    await _refuse_own(uow, taken_by.appointment_id if taken_by else None, grant)
    raise rules.SlotTaken(field="slotId")


async def _stored(uow: UnitOfWork, appointment_id: str) -> StoredAppointment:
    appt = await uow.appointments.appointment(appointment_id)
    if appt is None:
        raise BrokenInvariant("its owner was found a moment ago, and appointments stay")
    return appt


async def _slot_row(uow: UnitOfWork, slot_id: str | None) -> m.Slot | None:
    return await uow.appointments.slot_row(slot_id) if slot_id else None


def _record(
    uow: UnitOfWork,
    appointment_id: str,
    grant: PatientGrant,
    now: datetime,
    change: str,
    detail: dict[str, Any],
) -> None:
    """The change's trace and event, in its transaction: gone with it if it rolls back."""
    uow.appointments.log_change(
        appointment_id, account_id=grant.account_id, change=change, detail=detail, now=now
    )
    uow.outbox.record(
        EventKind.APPOINTMENT_CHANGED,
        object_id=appointment_id,
        patient_id=grant.patient_id,
        now=now,
        payload={"change": change},
    )
