"""Proxy grants a patient gives: who may grant, for how long, and invitation tokens' life.

The read side of a grant (what it lets a proxy see, adolescent limits included) is
domain/access.py alone; nothing here widens it.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.access import AgePolicy, age_on
from domain.errors import DomainError
from domain.scopes import Relationship, Scope

MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class ProxyPolicy:
    """How long an invitation stays usable, and the default end of a grant an adult gives."""

    invitation_ttl: timedelta = timedelta(days=14)
    adult_grant_months: int = 18


class MinorCannotGrant(DomainError):
    code = "MINOR_CANNOT_GRANT"
    default_message = "Proxy access to a minor's record is arranged with the clinic."


class InvalidEmail(DomainError):
    code = "INVALID_EMAIL"
    default_message = "Enter the email address of the person you invite."


class InvalidRelationship(DomainError):
    code = "INVALID_RELATIONSHIP"
    default_message = "Choose how the person you invite is related to you."


class NoScopes(DomainError):
    code = "NO_SCOPES"
    default_message = "Choose at least one part of your record to share."


class InvalidEndDate(DomainError):
    code = "INVALID_END_DATE"
    default_message = "The end date must be after today."


class InvitationInvalid(DomainError):
    code = "INVALID_INVITATION"
    default_message = "This invitation is not valid. Ask the patient to invite you again."


class InvitationExpired(DomainError):
    code = "INVITATION_EXPIRED"
    default_message = "This invitation has expired. Ask the patient to invite you again."


class OwnInvitation(DomainError):
    code = "OWN_INVITATION"
    default_message = "You cannot accept an invitation to your own record."


class AlreadyProxy(DomainError):
    code = "ALREADY_PROXY"
    default_message = "You already have proxy access to this patient."


class AlreadyRevoked(DomainError):
    code = "ALREADY_REVOKED"
    default_message = "This proxy access has already been revoked."


class GrantNotFound(DomainError):
    code = "GRANT_NOT_FOUND"
    default_message = "This proxy access does not exist."


def check_may_grant(birth_date: date, now: datetime, ages: AgePolicy) -> None:
    """Only an adult gives proxy access to their own record; a minor's goes through the clinic."""
    if age_on(birth_date, ages.today(now)) < ages.adult_age:
        raise MinorCannotGrant()


def invitee_email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise InvalidEmail(field="inviteeEmail")
    return email


def grant_relationship(relationship: Relationship) -> Relationship:
    """An adult invites a caregiver, a spouse or a legal guardian. A parent's grant follows
    the age rules of a minor's record (it would end at once), so a parent of an adult is
    invited as a caregiver."""
    if relationship is Relationship.SELF:
        raise InvalidRelationship(field="relationship")
    if relationship is Relationship.PARENT:
        raise InvalidRelationship(
            "A parent of an adult patient is invited as a caregiver.", field="relationship"
        )
    return relationship


def grant_scopes(scopes: Iterable[Scope]) -> list[Scope]:
    """The scopes named, once each, in their canonical order."""
    named = set(scopes)
    if not named:
        raise NoScopes(field="scopes")
    return [s for s in Scope if s in named]


def add_months(day: date, months: int) -> date:
    """The same day `months` later; a day the month lacks falls on that month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def grant_end(
    now: datetime, ends_on: date | None, ages: AgePolicy, policy: ProxyPolicy
) -> datetime:
    """When an adult's grant ends: the start of `ends_on` (that day has no access, as
    `PatientContext.changesOn` reports it), by default `adult_grant_months` from today."""
    today = ages.today(now)
    if ends_on is None:
        return ages.start_of(add_months(today, policy.adult_grant_months))
    if ends_on <= today:
        raise InvalidEndDate(field="endsOn")
    return ages.start_of(ends_on)


def check_invitation(expires_at: datetime, accepted_at: datetime | None, now: datetime) -> None:
    if accepted_at is not None:
        raise InvitationInvalid(field="token")
    if expires_at <= now:
        raise InvitationExpired(field="token")
