"""Requests to send a copy of the record to the patient, another provider or an insurer.

The health information management desk fulfils them; here they are checked and recorded.
A request names its recipient, exactly one way to deliver (email, fax or postal address),
and what to send: some areas of the record and/or a date range (neither: the whole record).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum

from domain.errors import DomainError
from domain.scopes import RecordArea

NAME_MAX = 200
NOTE_MAX = 1000
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
FAX_DIGITS = (10, 15)


class RecipientKind(Enum):
    SELF = "self"
    PROVIDER = "provider"
    INSURER = "insurer"


class RecordsReleaseStatus(Enum):
    REQUESTED = "requested"
    IN_PROGRESS = "in_progress"
    SENT = "sent"
    DENIED = "denied"


class RecipientNameRequired(DomainError):
    code = "RECIPIENT_NAME_REQUIRED"
    default_message = "Name the provider or insurer the records go to."


class DeliveryRequired(DomainError):
    code = "DELIVERY_REQUIRED"
    default_message = "Choose exactly one way to send the records: email, fax or mail."


class InvalidEmail(DomainError):
    code = "INVALID_EMAIL"
    default_message = "Enter a valid email address."


class InvalidFax(DomainError):
    code = "INVALID_FAX"
    default_message = "Enter a fax number of 10 to 15 digits."


class InvalidAddress(DomainError):
    code = "INVALID_ADDRESS"
    default_message = "Enter the street, city, state and postal code."


class InvalidDateRange(DomainError):
    code = "INVALID_DATE_RANGE"


class TooLong(DomainError):
    code = "TOO_LONG"


@dataclass(frozen=True)
class PostalAddress:
    line1: str
    line2: str | None
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True)
class ReleaseRequest:
    recipient_kind: RecipientKind
    recipient_name: str | None
    email: str | None
    fax: str | None
    address: PostalAddress | None
    areas: tuple[RecordArea, ...]
    from_date: date | None
    to_date: date | None
    note: str | None


def _clean(text: str | None) -> str | None:
    return text.strip() or None if text is not None else None


def check_release_request(
    *,
    recipient_kind: RecipientKind,
    recipient_name: str | None,
    email: str | None,
    fax: str | None,
    address: PostalAddress | None,
    areas: list[RecordArea] | None,
    from_date: date | None,
    to_date: date | None,
    note: str | None,
    today: date,
) -> ReleaseRequest:
    """The request as it will be recorded, or the first problem with it."""
    name, email, fax, note = _clean(recipient_name), _clean(email), _clean(fax), _clean(note)
    if recipient_kind is not RecipientKind.SELF and name is None:
        raise RecipientNameRequired(field="recipientName")
    if name is not None and len(name) > NAME_MAX:
        raise TooLong(f"The recipient's name is at most {NAME_MAX} characters.", "recipientName")
    if sum(channel is not None for channel in (email, fax, address)) != 1:
        raise DeliveryRequired(field="recipientEmail")
    if email is not None and (len(email) > 200 or not EMAIL.match(email)):
        raise InvalidEmail(field="recipientEmail")
    if fax is not None:
        fax = _fax(fax)
    if address is not None:
        address = _address(address)
    _check_dates(from_date, to_date, today)
    if note is not None and len(note) > NOTE_MAX:
        raise TooLong(f"The note is at most {NOTE_MAX} characters.", "note")
    ordered = tuple(a for a in RecordArea if a in set(areas or ()))
    return ReleaseRequest(
        recipient_kind, name, email, fax, address, ordered, from_date, to_date, note
    )


def _fax(fax: str) -> str:
    digits = re.sub(r"[\s().+-]", "", fax)
    low, high = FAX_DIGITS
    if not digits.isdigit() or not low <= len(digits) <= high:
        raise InvalidFax(field="recipientFax")
    return digits


def _address(address: PostalAddress) -> PostalAddress:
    parts = [_clean(p) for p in (address.line1, address.city, address.state, address.postal_code)]
    if any(p is None or len(p) > NAME_MAX for p in parts) or len(address.line2 or "") > NAME_MAX:
        raise InvalidAddress(field="recipientAddress")
    line1, city, state, postal_code = (str(p) for p in parts)
    return PostalAddress(line1, _clean(address.line2), city, state, postal_code)


def _check_dates(from_date: date | None, to_date: date | None, today: date) -> None:
    if from_date is not None and from_date > today:
        raise InvalidDateRange("The start date cannot be in the future.", "fromDate")
    if from_date is not None and to_date is not None and to_date < from_date:
        raise InvalidDateRange("The end date is before the start date.", "toDate")
