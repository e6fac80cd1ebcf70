"""Secure messaging rules: what a message may hold, who a new thread goes to, what it costs
and when to expect a reply, and when a refill may be requested (DESIGN section 3).

Messages are part of the medical record: nothing here edits or deletes one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum

from domain.attachments import AttachmentPolicy
from domain.errors import DomainError


class Category(Enum):
    MEDICAL_QUESTION = "medical_question"
    REFILL = "refill"
    BILLING = "billing"
    SCHEDULING = "scheduling"


class RecipientKind(Enum):
    PROVIDER = "provider"  # one provider of the patient's care team
    POOL = "pool"  # a team (billing office, scheduling desk, refill pool)


DEFAULT_POOLS: Mapping[Category, str] = {
    Category.BILLING: "Patient Financial Services",
    Category.SCHEDULING: "Scheduling - Access Center",
    Category.REFILL: "Prescription Refills",
}

DEFAULT_EVISIT_NOTICE = (
    "A provider's answer to this message may be billed as an e-visit to you or your "
    "insurance. If you do not want to be billed, book an appointment instead."
)


@dataclass(frozen=True)
class MessagingPolicy:
    max_subject_chars: int = 200
    max_body_chars: int = 5000
    max_pharmacy_chars: int = 200
    attachments: AttachmentPolicy = field(default_factory=AttachmentPolicy)
    # Where a new thread goes when the sender names no provider, per category.
    pools: Mapping[Category, str] = field(default_factory=lambda: dict(DEFAULT_POOLS))
    reply_business_days: int = 2
    reply_business_days_by_category: Mapping[Category, int] = field(default_factory=dict)
    # (category, recipient kind) pairs whose new threads may be billed as an e-visit.
    evisit_billed: frozenset[tuple[Category, RecipientKind]] = frozenset(
        {(Category.MEDICAL_QUESTION, RecipientKind.PROVIDER)}
    )
    evisit_fee_cents: int | None = None  # an estimate to show, if the organisation has one
    currency: str = "USD"
    evisit_notice: str = DEFAULT_EVISIT_NOTICE


# -- errors (codes of SendMessageErrorCode / RequestRefillErrorCode) ------------------------
class BodyEmpty(DomainError):
    code = "BODY_EMPTY"
    default_message = "Write a message."


class BodyTooLong(DomainError):
    code = "BODY_TOO_LONG"


class SubjectRequired(DomainError):
    code = "SUBJECT_REQUIRED"
    default_message = "A new conversation needs a subject."


class SubjectTooLong(DomainError):
    code = "SUBJECT_TOO_LONG"


class CategoryRequired(DomainError):
    code = "CATEGORY_REQUIRED"
    default_message = "Choose what the message is about."


class RecipientNotInCareTeam(DomainError):
    code = "RECIPIENT_NOT_IN_CARE_TEAM"
    default_message = "You can only message providers of the patient's care team."


class RecipientRequired(DomainError):
    code = "RECIPIENT_REQUIRED"
    default_message = "Choose a provider of the patient's care team to send this message to."


class ThreadNotFound(DomainError):
    code = "THREAD_NOT_FOUND"
    default_message = "This conversation was not found for this patient."


class EVisitNotAcknowledged(DomainError):
    code = "EVISIT_NOT_ACKNOWLEDGED"
    default_message = (
        "This message may be billed as an e-visit: confirm that you accept this to send it."
    )


class MedicationInactive(DomainError):
    code = "MEDICATION_INACTIVE"
    default_message = "This medication is no longer active; ask your provider about it instead."


class NoRefillsRemaining(DomainError):
    code = "NO_REFILLS_REMAINING"
    default_message = (
        "No refills remain on this prescription. Request a renewal (requestRenewal) and your "
        "prescriber will be asked for a new prescription."
    )


class PrescriptionExpired(DomainError):
    code = "PRESCRIPTION_EXPIRED"
    default_message = (
        "This prescription has expired. Request a renewal (requestRenewal) and your "
        "prescriber will be asked for a new prescription."
    )


class NoPrescriber(DomainError):
    code = "NO_PRESCRIBER"
    default_message = "No one can be found to send this refill request to; call your clinic."


class PharmacyRequired(DomainError):
    code = "PHARMACY_REQUIRED"
    default_message = "Name the pharmacy the refill should go to."


class PharmacyTooLong(DomainError):
    code = "PHARMACY_TOO_LONG"


# -- text --------------------------------------------------------------------------------
def clean_body(body: str, policy: MessagingPolicy, field: str = "body") -> str:
    """The body as stored: trimmed, not empty, not longer than the policy allows."""
    text = body.strip()
    if not text:
        raise BodyEmpty(field=field)
    if len(text) > policy.max_body_chars:
        raise BodyTooLong(f"Keep the message under {policy.max_body_chars} characters.", field)
    return text


def clean_subject(subject: str | None, policy: MessagingPolicy) -> str:
    """One line: runs of whitespace become one space."""
    text = " ".join((subject or "").split())
    if not text:
        raise SubjectRequired(field="subject")
    if len(text) > policy.max_subject_chars:
        raise SubjectTooLong(
            f"Keep the subject under {policy.max_subject_chars} characters.", "subject"
        )
    return text


# -- routing -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    kind: RecipientKind
    provider_id: str | None = None
    pool: str | None = None


def route_new_thread(
    category: Category,
    provider_id: str | None,
    care_team: Collection[str],
    pcp_id: str | None,
    policy: MessagingPolicy,
) -> Route:
    """A named provider must be on the care team; otherwise the category's pool, else the PCP."""
    if provider_id is not None:
        if provider_id not in care_team:
            raise RecipientNotInCareTeam(field="recipientProviderId")
        return Route(RecipientKind.PROVIDER, provider_id=provider_id)
    pool = policy.pools.get(category)
    if pool is not None:
        return Route(RecipientKind.POOL, pool=pool)
    if pcp_id is not None:
        return Route(RecipientKind.PROVIDER, provider_id=pcp_id)
    raise RecipientRequired(field="recipientProviderId")


def route_refill(prescriber_id: str | None, pcp_id: str | None, policy: MessagingPolicy) -> Route:
    """A refill goes to the prescriber; without one, to the refill pool, else the PCP."""
    if prescriber_id is not None:
        return Route(RecipientKind.PROVIDER, provider_id=prescriber_id)
    pool = policy.pools.get(Category.REFILL)
    if pool is not None:
        return Route(RecipientKind.POOL, pool=pool)
    if pcp_id is not None:
        return Route(RecipientKind.PROVIDER, provider_id=pcp_id)
    raise NoPrescriber(field="medicationId")


def recipient_kind(
    category: Category, provider_id: str | None, policy: MessagingPolicy
) -> RecipientKind:
    """The kind of recipient a new thread will have (for the terms shown before sending)."""
    if provider_id is None and category in policy.pools:
        return RecipientKind.POOL
    return RecipientKind.PROVIDER


# -- cost and reply time -----------------------------------------------------------------
def add_business_days(day: date, days: int) -> date:
    """`days` weekdays after `day` (a weekend day counts from the Monday after it)."""
    current, left = day, days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


@dataclass(frozen=True)
class Terms:
    category: Category
    recipient_kind: RecipientKind
    billed_as_evisit: bool
    estimated_charge_cents: int | None
    billing_notice: str | None
    reply_business_days: int
    reply_by: date


def terms(category: Category, kind: RecipientKind, today: date, policy: MessagingPolicy) -> Terms:
    """What sending a new message of `category` to a recipient of `kind` today means."""
    billed = (category, kind) in policy.evisit_billed
    days = policy.reply_business_days_by_category.get(category, policy.reply_business_days)
    return Terms(
        category=category,
        recipient_kind=kind,
        billed_as_evisit=billed,
        estimated_charge_cents=policy.evisit_fee_cents if billed else None,
        billing_notice=policy.evisit_notice if billed else None,
        reply_business_days=days,
        reply_by=add_business_days(today, days),
    )


def require_acknowledgement(new_terms: Terms, acknowledged: bool) -> None:
    """A message that may be billed is sent only once the sender has accepted the notice."""
    if new_terms.billed_as_evisit and not acknowledged:
        raise EVisitNotAcknowledged(field="acknowledgeEVisitBilling")


# -- refills -----------------------------------------------------------------------------
@dataclass(frozen=True)
class MedicationFacts:
    name: str
    dose: str | None
    status: str
    refills_remaining: int
    pharmacy: str | None
    end_date: date | None = None


def check_refill(medication: MedicationFacts, today: date | None = None) -> None:
    """Refused when nothing can be refilled; an expired or used-up prescription is renewed
    instead (domain/renewals.py), and the refusal says so."""
    if medication.status != "active":
        raise MedicationInactive(field="medicationId")
    if today is not None and medication.end_date is not None and medication.end_date < today:
        raise PrescriptionExpired(field="medicationId")
    if medication.refills_remaining <= 0:
        raise NoRefillsRemaining(field="medicationId")


def refill_pharmacy(
    requested: str | None, medication: MedicationFacts, policy: MessagingPolicy
) -> str:
    """The pharmacy named in the request, else the one on file for the prescription."""
    text = " ".join((requested or "").split()) or (medication.pharmacy or "")
    if not text:
        raise PharmacyRequired(field="pharmacy")
    if len(text) > policy.max_pharmacy_chars:
        raise PharmacyTooLong(
            f"Keep the pharmacy under {policy.max_pharmacy_chars} characters.", "pharmacy"
        )
    return text


def refill_subject(medication: MedicationFacts, policy: MessagingPolicy) -> str:
    return f"Refill request: {medication.name}"[: policy.max_subject_chars]


def refill_body(
    medication: MedicationFacts, pharmacy: str, note: str | None, policy: MessagingPolicy
) -> str:
    """The message the prescriber reads; the patient's note is checked like any body."""
    what = f"{medication.name} ({medication.dose})" if medication.dose else medication.name
    lines = [f"Please refill {what}.", f"Pharmacy: {pharmacy}"]
    if note is not None and note.strip():
        lines.append(f"Note: {clean_body(note, policy, field='note')}")
    return "\n".join(lines)
