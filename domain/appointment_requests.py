"""Appointment requests: visits a patient may not book online are asked for, and the clinic
schedules (or declines) them through the EHR feed.

A request is REQUESTED until the clinic answers it (SCHEDULED, with the appointment it
booked; DECLINED, with the clinic's reason) or the patient withdraws it (CANCELLED). Only a
REQUESTED request may be cancelled or answered; a patient has at most one open request per
visit type, so a double tap does not queue the same call twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from domain.errors import BrokenInvariant, Collector, DomainError

MAX_VISIT_TYPE_LENGTH = 100
MAX_REASON_LENGTH = 500
MAX_DECLINE_REASON_LENGTH = 500


class RequestStatus(Enum):
    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class Weekday(Enum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class TimeOfDay(Enum):
    MORNING = "MORNING"
    AFTERNOON = "AFTERNOON"
    EVENING = "EVENING"


class ContactPreference(Enum):
    PORTAL_MESSAGE = "PORTAL_MESSAGE"
    PHONE = "PHONE"
    EMAIL = "EMAIL"


@dataclass(frozen=True)
class RequestAppointment:
    """The command: what the patient (or a proxy with APPOINTMENTS) asks for."""

    visit_type: str
    reason: str
    provider_id: str | None
    department_id: str | None
    days: tuple[Weekday, ...]
    times: tuple[TimeOfDay, ...]
    contact: ContactPreference


# -- the errors ------------------------------------------------------------------------------
class InvalidRequest(DomainError):
    code = "INVALID_INPUT"


class InvalidId(DomainError):
    code = "INVALID_ID"
    default_message = "This id is not valid."


class RequestNotFound(DomainError):
    code = "NOT_FOUND"
    default_message = "There is no such appointment request."


class NotPending(DomainError):
    code = "NOT_PENDING"
    default_message = "The clinic has already answered this request, or it was cancelled."


class DuplicateRequest(DomainError):
    code = "ALREADY_REQUESTED"
    default_message = (
        "There is already an open request for this type of visit. The clinic will contact "
        "you; you can cancel that request and send a new one."
    )


class UnknownProvider(DomainError):
    code = "UNKNOWN_PROVIDER"
    default_message = "There is no such provider."


class UnknownDepartment(DomainError):
    code = "UNKNOWN_DEPARTMENT"
    default_message = "There is no such department."


def _text(value: str, field: str, label: str, longest: int) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InvalidRequest(f"Enter the {label}.", field)
    if len(cleaned) > longest or any(not c.isprintable() for c in cleaned):
        raise InvalidRequest(f"Keep the {label} under {longest} characters.", field)
    return cleaned


def check_request(
    *,
    visit_type: str,
    reason: str,
    provider_id: str | None,
    department_id: str | None,
    days: Sequence[Weekday],
    times: Sequence[TimeOfDay],
    contact: ContactPreference,
) -> RequestAppointment:
    """The request, cleaned; every invalid field is reported at once."""
    found = Collector()
    kind = found.check(_text, visit_type, "visitType", "type of visit", MAX_VISIT_TYPE_LENGTH)
    why = found.check(_text, reason, "reason", "reason for the visit", MAX_REASON_LENGTH)
    found.raise_any()
    if kind is None:
        raise BrokenInvariant("kind is None")
    if why is None:
        raise BrokenInvariant("why is None")
    return RequestAppointment(
        visit_type=kind,
        reason=why,
        provider_id=provider_id,
        department_id=department_id,
        days=tuple(d for d in Weekday if d in days),  # week order, each once
        times=tuple(t for t in TimeOfDay if t in times),
        contact=contact,
    )


def cancel_refusal(status: RequestStatus) -> DomainError | None:
    return None if status is RequestStatus.REQUESTED else NotPending()


# -- what the patient is told ----------------------------------------------------------------
@dataclass(frozen=True)
class RequestNotice:
    title: str
    body: str


def answer_notice(status: RequestStatus, visit_type: str) -> RequestNotice:
    """Generic enough for email and SMS: the visit type only, no reason, no clinic notes."""
    if status is RequestStatus.SCHEDULED:
        return RequestNotice(
            "Appointment request scheduled",
            f"Your request for a {visit_type} was scheduled. See the appointment for details.",
        )
    return RequestNotice(
        "Appointment request answered",
        f"The clinic answered your request for a {visit_type}. Sign in to see their reply.",
    )
