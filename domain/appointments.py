"""What a patient may still do with an appointment, so clients don't re-implement policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ACTIVE_STATUSES = frozenset({"scheduled", "confirmed", "checked_in"})


@dataclass(frozen=True)
class AppointmentPolicy:
    cancel_notice: timedelta = timedelta(hours=24)
    check_in_opens: timedelta = timedelta(days=7)
    join_link_opens: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class AppointmentActions:
    can_cancel: bool
    can_reschedule: bool
    can_check_in: bool
    can_confirm: bool
    cancel_deadline: datetime | None
    check_in_opens_at: datetime | None
    join_link_visible: bool


def actions_for(
    *,
    status: str,
    starts_at: datetime,
    duration: timedelta,
    telehealth: bool,
    now: datetime,
    policy: AppointmentPolicy,
) -> AppointmentActions:
    upcoming = status in ACTIVE_STATUSES and starts_at > now
    deadline = starts_at - policy.cancel_notice if upcoming else None
    before_deadline = deadline is not None and now < deadline
    opens = starts_at - policy.check_in_opens
    in_check_in_window = upcoming and opens <= now and status != "checked_in"
    joinable = (
        telehealth
        and status in ACTIVE_STATUSES
        and starts_at - policy.join_link_opens <= now < starts_at + duration
    )
    return AppointmentActions(
        can_cancel=before_deadline,
        can_reschedule=before_deadline,
        can_check_in=in_check_in_window,
        can_confirm=upcoming and status == "scheduled",
        cancel_deadline=deadline,
        check_in_opens_at=opens if upcoming else None,
        join_link_visible=joinable,
    )
