"""Health maintenance: the screenings and immunizations a patient is due for, as the EHR
sends them, where each stands today, and when the patient is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum


class TopicKind(Enum):
    IMMUNIZATION = "immunization"
    SCREENING = "screening"
    OTHER = "other"


class TopicStatus(Enum):
    NOT_DUE = "NOT_DUE"  # due later than the due-soon window
    DUE = "DUE"  # due within the window (or today)
    OVERDUE = "OVERDUE"  # the due date has passed
    POSTPONED = "POSTPONED"  # the clinic postponed it (the EHR says so)
    COMPLETED = "COMPLETED"  # done; nothing due until the EHR sends a next date


@dataclass(frozen=True)
class HealthMaintenancePolicy:
    due_soon: timedelta = timedelta(days=30)  # "due" from this long before the due date


def topic_status(
    due_on: date | None, postponed: bool, today: date, policy: HealthMaintenancePolicy
) -> TopicStatus:
    if postponed:
        return TopicStatus.POSTPONED
    if due_on is None:
        return TopicStatus.COMPLETED
    if due_on < today:
        return TopicStatus.OVERDUE
    if due_on <= today + policy.due_soon:
        return TopicStatus.DUE
    return TopicStatus.NOT_DUE


def should_notify(status: TopicStatus, due_on: date | None, notified_for: date | None) -> bool:
    """Tell the patient once per due date, when a topic becomes due (or overdue)."""
    due = status in (TopicStatus.DUE, TopicStatus.OVERDUE)
    return due and due_on is not None and notified_for != due_on
