"""Which channels tell an account about a notification, and what they may say.

IN_APP is the notification row (the feed and its real-time event). EMAIL, SMS and PUSH leave
the portal, so they say only that something new is waiting, never what it is about: no
names, no results, no message text (no PHI outside the portal).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from domain.errors import DomainError


class Channel(Enum):
    IN_APP = "IN_APP"
    EMAIL = "EMAIL"
    SMS = "SMS"
    PUSH = "PUSH"


# What an account gets for a kind it has not chosen channels for.
DEFAULT_CHANNELS: frozenset[Channel] = frozenset({Channel.IN_APP, Channel.EMAIL})

# Channel order for display and storage.
ORDER = list(Channel)


def channels_for(stored: Iterable[str] | None) -> frozenset[Channel]:
    """The channels of a stored preference (None: no preference, the defaults)."""
    if stored is None:
        return DEFAULT_CHANNELS
    return frozenset(Channel(value) for value in stored if value in Channel._value2member_map_)


def ordered(channels: Iterable[Channel]) -> list[Channel]:
    chosen = set(channels)
    return [c for c in ORDER if c in chosen]


@dataclass(frozen=True)
class OutsideText:
    """What an email, text message or push notification says: no PHI."""

    subject: str
    body: str
    short: str  # SMS and push


_WHAT = {
    "MESSAGE_RECEIVED": "a new message",
    "RESULT_RELEASED": "a new test result",
    "APPOINTMENT_REMINDER": "an upcoming appointment",
    "APPOINTMENT_CHANGED": "a change to an appointment",
    "APPOINTMENT_REQUEST_ANSWERED": "an answer to an appointment request",
    "PRESCRIPTION_RENEWAL_ANSWERED": "an answer to a prescription renewal request",
    "TERMS_UPDATED": "updated terms of use or privacy notice",
    "STATEMENT_ISSUED": "a new billing statement",
    "NOTE_SIGNED": "a new clinical note",
    "HEALTH_MAINTENANCE_DUE": "a health reminder",
}


def outside_text(kind: str) -> OutsideText:
    what = _WHAT.get(kind, "new activity")
    return OutsideText(
        subject="You have something new in your patient portal",
        body=(
            f"You have {what} in your patient portal.\n\n"
            "Sign in to the portal to see it. For your privacy, this message does not say "
            "more.\n\nYou can choose how you are notified in the portal's notification "
            "settings."
        ),
        short=f"Patient portal: you have {what}. Sign in to see it.",
    )


class DuplicateKind(DomainError):
    code = "DUPLICATE_KIND"
    default_message = "Give each kind of notification once."


def check_unique_kinds(kinds: list[str]) -> None:
    if len(set(kinds)) != len(kinds):
        raise DuplicateKind(field="preferences")


class NotificationNotFound(DomainError):
    code = "NOTIFICATION_NOT_FOUND"
    default_message = "Some of these notifications were not found among yours."


class IdsOrAllRequired(DomainError):
    code = "IDS_OR_ALL_REQUIRED"
    default_message = "Give the notifications to mark read, or all: true (not both)."


def check_ids_or_all(ids: list[str] | None, all_: bool) -> None:
    if bool(ids) == all_:
        raise IdsOrAllRequired(field="ids")
