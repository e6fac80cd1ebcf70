"""Contact details a patient keeps current: their shape, checked before anything changes.

Phone numbers are stored as the portal shows them: `617-555-0123` for US numbers, `+` and
digits (E.164) for others. Addresses are US postal addresses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import BrokenInvariant, Collector, DomainError

MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_ZIP = re.compile(r"^\d{5}(?:-\d{4})?$")
_STATE_CODES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI"
)
US_STATES = frozenset(_STATE_CODES.split())


class InvalidEmail(DomainError):
    code = "INVALID_EMAIL"
    default_message = "Enter an email address like name@example.com."

    def __init__(self) -> None:
        super().__init__(field="email")


class InvalidPhone(DomainError):
    code = "INVALID_PHONE"
    default_message = "Enter a 10-digit US phone number, or an international one starting with +."

    def __init__(self) -> None:
        super().__init__(field="phone")


class InvalidAddress(DomainError):
    code = "INVALID_ADDRESS"


class NothingToChange(DomainError):
    code = "NOTHING_TO_CHANGE"
    default_message = "Enter the address, phone number or email address to change."


class NoEmailChangePending(DomainError):
    code = "NO_CHANGE_PENDING"
    default_message = "There is no email change to confirm. Enter the new address again."


def email_address(value: str) -> str:
    email = value.strip()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise InvalidEmail()
    local, domain = email.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def same_email(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.casefold() == b.casefold()


def phone_number(value: str) -> str:
    raw = value.strip()
    digits = re.sub(r"[\s().-]", "", raw)
    if digits.startswith("+"):
        rest = digits[1:]
        if rest.isdigit() and 8 <= len(rest) <= 15 and not rest.startswith("0"):
            return phone_number(rest[1:]) if rest.startswith("1") and len(rest) == 11 else digits
        raise InvalidPhone()
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    # A US number: area code and exchange do not start with 0 or 1.
    if not (digits.isdigit() and len(digits) == 10) or "0" in (digits[0], digits[3]):
        raise InvalidPhone()
    if "1" in (digits[0], digits[3]):
        raise InvalidPhone()
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


@dataclass(frozen=True)
class PostalAddress:
    line1: str
    line2: str | None
    city: str
    state: str
    postal_code: str

    def as_json(self) -> dict[str, str | None]:
        return {
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "state": self.state,
            "postal_code": self.postal_code,
        }


def _text(value: str | None, field: str, label: str, longest: int, required: bool) -> str | None:
    cleaned = " ".join((value or "").split())
    if not cleaned:
        if required:
            raise InvalidAddress(f"Enter the {label}.", field=field)
        return None
    if len(cleaned) > longest or any(not c.isprintable() for c in cleaned):
        raise InvalidAddress(f"The {label} is too long or has characters we cannot use.", field)
    return cleaned


def postal_address(
    line1: str, line2: str | None, city: str, state: str, postal_code: str
) -> PostalAddress:
    """The address, cleaned; raises every problem of it at once (`DomainErrors`)."""
    found = Collector()
    state_code = state.strip().upper()
    if state_code not in US_STATES:
        found.errors.append(
            InvalidAddress("Enter the two-letter state code, e.g. MA.", field="address.state")
        )
    zip_code = postal_code.strip()
    if not _ZIP.match(zip_code):
        found.errors.append(InvalidAddress("Enter a 5-digit ZIP code.", field="address.postalCode"))
    street = found.check(_text, line1, "address.line1", "street address", 100, True)
    city_name = found.check(_text, city, "address.city", "city", 60, True)
    second = found.check(_text, line2, "address.line2", "second address line", 100, False)
    found.raise_any()
    if street is None:
        raise BrokenInvariant("street is None")
    if city_name is None:
        raise BrokenInvariant("city_name is None")
    return PostalAddress(
        line1=street, line2=second, city=city_name, state=state_code, postal_code=zip_code
    )


class InvalidId(DomainError):
    code = "INVALID_ID"
    default_message = "This is not a valid patient id."

    def __init__(self) -> None:
        super().__init__(field="patientId")


class TooManyCodes(DomainError):
    code = "TOO_MANY_ATTEMPTS"
    default_message = "We have sent several codes to this address already; try again in an hour."

    def __init__(self) -> None:
        super().__init__(field="email")
