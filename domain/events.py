"""What happened, as the real-time layer publishes it. Pure values: no I/O.

A write records its events in the same transaction as the change (the outbox); they are
published after commit, so a rolled-back write never produces one and a committed write's
event is not lost while the broker is down.
"""

from __future__ import annotations

from enum import Enum

from domain.scopes import RecordArea


class EventKind(Enum):
    MESSAGE_RECEIVED = "MESSAGE_RECEIVED"
    RESULT_RELEASED = "RESULT_RELEASED"
    NOTIFICATION_ADDED = "NOTIFICATION_ADDED"
    APPOINTMENT_CHANGED = "APPOINTMENT_CHANGED"
    NOTE_SIGNED = "NOTE_SIGNED"
    APPOINTMENT_REQUEST_CHANGED = "APPOINTMENT_REQUEST_CHANGED"


# The record area a subscriber must be allowed to read to receive an event of each kind
# about a patient. Notifications are addressed to one account and checked by their own area.
AREA_OF: dict[EventKind, RecordArea | None] = {
    EventKind.MESSAGE_RECEIVED: RecordArea.MESSAGES,
    EventKind.RESULT_RELEASED: RecordArea.RESULTS,
    EventKind.NOTIFICATION_ADDED: None,
    EventKind.APPOINTMENT_CHANGED: RecordArea.APPOINTMENTS,
    EventKind.NOTE_SIGNED: RecordArea.CLINICAL_NOTES,
    EventKind.APPOINTMENT_REQUEST_CHANGED: RecordArea.APPOINTMENTS,
}
