"""Prescription renewals: a new prescription asked of the prescriber when the old one has no
refills left or has expired; distinct from a refill (which draws on refills that remain).

A renewal is REQUESTED until the EHR answers it (APPROVED, with the new refills and end
date; DENIED, with the prescriber's reason). One open renewal per medication.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

from domain.errors import DomainError

MAX_NOTE_LENGTH = 1000


class RenewalStatus(Enum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DENIED = "denied"


@dataclass(frozen=True)
class PrescriptionFacts:
    status: str
    refills_remaining: int
    end_date: date | None
    prescriber_id: str | None


def expired(p: PrescriptionFacts, today: date) -> bool:
    return p.end_date is not None and p.end_date < today


def needs_renewal(p: PrescriptionFacts, today: date) -> bool:
    """No refill can be drawn on it: none remain, or it has expired."""
    return p.status == "active" and (p.refills_remaining <= 0 or expired(p, today))


class InvalidId(DomainError):
    code = "INVALID_ID"
    default_message = "This is not a valid medication id."


class MedicationInactive(DomainError):
    code = "MEDICATION_INACTIVE"
    default_message = "This medication is no longer active; ask your provider about it instead."


class RenewalNotNeeded(DomainError):
    code = "RENEWAL_NOT_NEEDED"
    default_message = "Refills remain on this prescription: request a refill instead."


class AlreadyRequested(DomainError):
    code = "ALREADY_REQUESTED"
    default_message = "A renewal of this prescription is already waiting for the prescriber."


class NoPrescriber(DomainError):
    code = "NO_PRESCRIBER"
    default_message = "No prescriber is on file for this medication; call your clinic."


class NoteTooLong(DomainError):
    code = "NOTE_TOO_LONG"
    default_message = f"Keep the note under {MAX_NOTE_LENGTH} characters."


def check_renewal(p: PrescriptionFacts, note: str | None, today: date) -> str | None:
    """The cleaned note; raises why a renewal may not be asked for."""
    if p.status != "active":
        raise MedicationInactive(field="medicationId")
    if not needs_renewal(p, today):
        raise RenewalNotNeeded(field="medicationId")
    if p.prescriber_id is None:
        raise NoPrescriber(field="medicationId")
    text = (note or "").strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise NoteTooLong(field="note")
    return text or None


def answer_notice(status: RenewalStatus, medication: str) -> tuple[str, str]:
    """(title, body) in-app; mail and SMS say only that something new is waiting."""
    if status is RenewalStatus.APPROVED:
        return ("Prescription renewed", f"Your prescription for {medication} was renewed.")
    return (
        "Prescription renewal answered",
        f"Your prescriber answered your renewal request for {medication}. Sign in to see why.",
    )
