"""What a patient changes about how they are addressed: preferred name and pronouns.

Self only and immediate (no clinic review): the legal name on the record is the clinic's and
does not change here. A blank value clears the field.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import Collector, DomainError

MAX_PREFERRED_NAME = 100
MAX_PRONOUNS = 40


class InvalidProfile(DomainError):
    code = "INVALID_INPUT"


class NothingToChange(DomainError):
    code = "NOTHING_TO_CHANGE"
    default_message = "Enter a preferred name or pronouns to change."


class InvalidId(DomainError):
    code = "INVALID_ID"
    default_message = "This is not a valid patient id."

    def __init__(self) -> None:
        super().__init__(field="patientId")


@dataclass(frozen=True)
class ProfileChange:
    """`None`: leave as is; `""`: clear."""

    preferred_name: str | None
    pronouns: str | None


def _clean(value: str, field: str, label: str, longest: int) -> str:
    text = " ".join(value.split())
    if len(text) > longest or any(not c.isprintable() for c in text):
        raise InvalidProfile(f"Keep the {label} under {longest} characters.", field)
    return text


def check_profile(preferred_name: str | None, pronouns: str | None) -> ProfileChange:
    if preferred_name is None and pronouns is None:
        raise NothingToChange()
    found = Collector()
    name = (
        found.check(_clean, preferred_name, "preferredName", "preferred name", MAX_PREFERRED_NAME)
        if preferred_name is not None
        else None
    )
    said = (
        found.check(_clean, pronouns, "pronouns", "pronouns", MAX_PRONOUNS)
        if pronouns is not None
        else None
    )
    found.raise_any()
    return ProfileChange(name, said)
