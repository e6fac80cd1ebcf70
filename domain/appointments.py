"""Appointment rules: what a patient may book, and what they may still do with a booking.

Each action has one refusal function (`cancel_refusal`, `check_in_refusal`, ...) that answers
the error the action would get now, or None. The mutations raise what it answers, and
`actions_for` (the `canCancel`/`canCheckIn`/... flags of reads) is built from the same
functions, so a flag and its mutation never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain.eligibility import EligibilityPolicy
from domain.errors import DomainError

ACTIVE_STATUSES = frozenset({"scheduled", "confirmed", "checked_in"})

# Visit types a patient books online unless a department says otherwise. The rest (new
# patients, therapy, imaging, urgent care, ...) are requested and scheduled by the clinic.
DEFAULT_SELF_SCHEDULABLE = frozenset(
    {"Office Visit", "Follow-Up", "Annual Physical", "Telehealth Visit", "Well Child", "Sick Visit"}
)

MAX_REASON_LENGTH = 500
MAX_ANSWERS = 50
MAX_QUESTION_ID_LENGTH = 100
MAX_ANSWER_LENGTH = 2000


@dataclass(frozen=True)
class AppointmentPolicy:
    cancel_notice: timedelta = timedelta(hours=24)
    check_in_opens: timedelta = timedelta(days=7)
    join_link_opens: timedelta = timedelta(minutes=30)
    reminder_lead: timedelta = timedelta(hours=24)
    self_schedulable: frozenset[str] = DEFAULT_SELF_SCHEDULABLE
    # department id -> the visit types it lets patients book (replaces the default there)
    self_schedulable_by_department: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Who may book what online (age, sex, established patients, panels): domain/eligibility.py
    eligibility: EligibilityPolicy = field(default_factory=EligibilityPolicy)

    def candidate_types(self, department_id: str) -> frozenset[str]:
        return self.self_schedulable_by_department.get(department_id, self.self_schedulable)

    def may_self_schedule(self, department_id: str, visit_type: str) -> bool:
        allowed = self.self_schedulable_by_department.get(department_id, self.self_schedulable)
        return visit_type in allowed


def is_telehealth(visit_type: str) -> bool:
    return visit_type == "Telehealth Visit"


@dataclass(frozen=True)
class AppointmentFacts:
    """What the rules need to know of a booked appointment."""

    status: str
    starts_at: datetime
    visit_type: str
    department_id: str


@dataclass(frozen=True)
class SlotFacts:
    department_id: str
    starts_at: datetime
    visit_types: Sequence[str]
    taken: bool


@dataclass(frozen=True)
class CheckInAnswer:
    question_id: str
    answer: str


# -- the errors ------------------------------------------------------------------------------
class InvalidId(DomainError):
    code = "INVALID_ID"
    default_message = "This id is not valid."


class InvalidInput(DomainError):
    code = "INVALID_INPUT"


class SlotNotFound(DomainError):
    code = "SLOT_NOT_FOUND"
    default_message = "This time slot does not exist."


class SlotTaken(DomainError):
    code = "SLOT_TAKEN"
    default_message = "This time was just booked by someone else. Please choose another time."


class AlreadyBooked(DomainError):
    """The slot is held by the patient's own appointment (answered with that appointment)."""

    code = "ALREADY_BOOKED"
    default_message = "You already have this time booked. See the appointment below."


class SlotInPast(DomainError):
    code = "SLOT_IN_PAST"
    default_message = "This time has already passed. Please choose a later time."


class VisitTypeNotOffered(DomainError):
    code = "VISIT_TYPE_NOT_OFFERED"
    default_message = "This time cannot be booked for this type of visit."


class VisitTypeRequiresRequest(DomainError):
    code = "VISIT_TYPE_REQUIRES_REQUEST"
    default_message = (
        "This type of visit cannot be booked online. Send an appointment request "
        "(requestAppointment) and the clinic will schedule it with you."
    )


class NotActive(DomainError):
    code = "NOT_ACTIVE"
    default_message = "This appointment has been cancelled or has already taken place."


class TooLate(DomainError):
    """Past the online deadline: the patient has to call the clinic."""

    def __init__(self, what: str, clinic_phone: str | None) -> None:
        call = f"call the clinic at {clinic_phone}" if clinic_phone else "call the clinic"
        super().__init__(f"It is too late to {what} this appointment online. Please {call}.")


class TooLateToCancel(TooLate):
    code = "TOO_LATE_TO_CANCEL"

    def __init__(self, clinic_phone: str | None = None) -> None:
        super().__init__("cancel", clinic_phone)


class TooLateToReschedule(TooLate):
    code = "TOO_LATE_TO_RESCHEDULE"

    def __init__(self, clinic_phone: str | None = None) -> None:
        super().__init__("reschedule", clinic_phone)


class AlreadyConfirmed(DomainError):
    code = "ALREADY_CONFIRMED"
    default_message = "This appointment is already confirmed."


class AlreadyStarted(DomainError):
    code = "ALREADY_STARTED"
    default_message = "This appointment has already started."


class CheckInNotOpen(DomainError):
    code = "CHECK_IN_NOT_OPEN"

    def __init__(self, opens_at: datetime) -> None:
        super().__init__(f"Check-in opens at {opens_at.isoformat()}.")


class CheckInClosed(DomainError):
    code = "CHECK_IN_CLOSED"
    default_message = "Online check-in closed when the appointment started."


class AlreadyCheckedIn(DomainError):
    code = "ALREADY_CHECKED_IN"
    default_message = "You have already checked in for this appointment."


class ConfirmationRequired(DomainError):
    code = "CONFIRMATION_REQUIRED"


class AppointmentChanged(DomainError):
    code = "APPOINTMENT_CHANGED"
    default_message = "This appointment was changed meanwhile. Please reload it and try again."


# -- booking ---------------------------------------------------------------------------------
def booking_refusal(
    slot: SlotFacts, visit_type: str, now: datetime, policy: AppointmentPolicy
) -> DomainError | None:
    """Why `visit_type` may not be booked into `slot` now, or None."""
    if slot.starts_at <= now:
        return SlotInPast(field="slotId")
    if visit_type not in slot.visit_types:
        return VisitTypeNotOffered(field="visitType")
    if not policy.may_self_schedule(slot.department_id, visit_type):
        return VisitTypeRequiresRequest(field="visitType")
    if slot.taken:
        return SlotTaken(field="slotId")
    return None


def validate_reason(reason: str | None) -> str | None:
    text = (reason or "").strip()
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidInput(f"Keep the reason under {MAX_REASON_LENGTH} characters.", "reason")
    return text or None


# -- what may be done with a booking ---------------------------------------------------------
def _deadline_passed(appt: AppointmentFacts, now: datetime, policy: AppointmentPolicy) -> bool:
    return now >= appt.starts_at - policy.cancel_notice


def cancel_refusal(
    appt: AppointmentFacts,
    now: datetime,
    policy: AppointmentPolicy,
    clinic_phone: str | None = None,
) -> DomainError | None:
    if appt.status not in ACTIVE_STATUSES:
        return NotActive()
    if _deadline_passed(appt, now, policy):
        return TooLateToCancel(clinic_phone)
    return None


def reschedule_refusal(
    appt: AppointmentFacts,
    now: datetime,
    policy: AppointmentPolicy,
    clinic_phone: str | None = None,
) -> DomainError | None:
    """Whether this appointment may be moved at all (the new slot is checked apart)."""
    if appt.status not in ACTIVE_STATUSES:
        return NotActive()
    if _deadline_passed(appt, now, policy):
        return TooLateToReschedule(clinic_phone)
    # What may not be booked online may not be moved online either.
    if not policy.may_self_schedule(appt.department_id, appt.visit_type):
        return VisitTypeRequiresRequest(
            "This type of visit cannot be rescheduled online. Please call the clinic."
        )
    return None


def new_slot_refusal(
    appt: AppointmentFacts, slot: SlotFacts, now: datetime, policy: AppointmentPolicy
) -> DomainError | None:
    return booking_refusal(slot, appt.visit_type, now, policy)


def confirm_refusal(
    appt: AppointmentFacts, now: datetime, policy: AppointmentPolicy
) -> DomainError | None:
    if appt.status not in ACTIVE_STATUSES:
        return NotActive()
    if appt.starts_at <= now:
        return AlreadyStarted()
    if appt.status != "scheduled":
        return AlreadyConfirmed()
    return None


def check_in_refusal(
    appt: AppointmentFacts, now: datetime, policy: AppointmentPolicy
) -> DomainError | None:
    if appt.status not in ACTIVE_STATUSES:
        return NotActive()
    if appt.status == "checked_in":
        return AlreadyCheckedIn()
    if appt.starts_at <= now:
        return CheckInClosed()
    opens = appt.starts_at - policy.check_in_opens
    if now < opens:
        return CheckInNotOpen(opens)
    return None


def validate_check_in(
    answers: Sequence[CheckInAnswer], contact_confirmed: bool, insurance_confirmed: bool
) -> list[CheckInAnswer]:
    """The answers, trimmed; raises for a missing confirmation or a malformed answer."""
    if not contact_confirmed:
        raise ConfirmationRequired(
            "Please confirm that your contact details are current.", "contactConfirmed"
        )
    if not insurance_confirmed:
        raise ConfirmationRequired(
            "Please confirm that your insurance details are current.", "insuranceConfirmed"
        )
    if len(answers) > MAX_ANSWERS:
        raise InvalidInput(f"At most {MAX_ANSWERS} answers.", "answers")
    seen: set[str] = set()
    cleaned = []
    for answer in answers:
        question = answer.question_id.strip()
        if not question or len(question) > MAX_QUESTION_ID_LENGTH:
            raise InvalidInput("Each answer needs a valid question id.", "answers")
        if question in seen:
            raise InvalidInput("Answer each question once.", "answers")
        if len(answer.answer) > MAX_ANSWER_LENGTH:
            raise InvalidInput(f"Keep answers under {MAX_ANSWER_LENGTH} characters.", "answers")
        seen.add(question)
        cleaned.append(CheckInAnswer(question, answer.answer.strip()))
    return cleaned


# -- the flags reads show --------------------------------------------------------------------
@dataclass(frozen=True)
class AppointmentActions:
    can_cancel: bool
    can_reschedule: bool
    can_check_in: bool
    can_confirm: bool
    cancel_deadline: datetime | None
    check_in_opens_at: datetime | None
    join_link_visible: bool


def actions_for(
    appt: AppointmentFacts,
    *,
    duration: timedelta,
    telehealth: bool,
    now: datetime,
    policy: AppointmentPolicy,
) -> AppointmentActions:
    starts_at = appt.starts_at
    upcoming = appt.status in ACTIVE_STATUSES and starts_at > now
    joinable = (
        telehealth
        and appt.status in ACTIVE_STATUSES
        and starts_at - policy.join_link_opens <= now < starts_at + duration
    )
    return AppointmentActions(
        can_cancel=cancel_refusal(appt, now, policy) is None,
        can_reschedule=reschedule_refusal(appt, now, policy) is None,
        can_check_in=check_in_refusal(appt, now, policy) is None,
        can_confirm=confirm_refusal(appt, now, policy) is None,
        cancel_deadline=starts_at - policy.cancel_notice if upcoming else None,
        check_in_opens_at=starts_at - policy.check_in_opens if upcoming else None,
        join_link_visible=joinable,
    )


# -- reminders -------------------------------------------------------------------------------
def reminder_text(
    visit_type: str, starts_at: datetime, department_name: str, timezone: str
) -> tuple[str, str]:
    """(title, body) of an appointment reminder, the time in the clinic's own zone."""
    local = starts_at.astimezone(ZoneInfo(timezone))
    when = f"{local:%A, %B} {local.day} at {local:%I:%M %p}".replace(" at 0", " at ")
    return (
        "Appointment reminder",
        f"Your {visit_type} at {department_name} is on {when} ({local.tzname()}).",
    )
