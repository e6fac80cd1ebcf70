"""Pure rules of the real-time layer: where an event goes, what a seq is, when a
subscriber's access changes on its own; and the local fan-out's back-pressure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.access import AccessDenied, AgePolicy, GrantFacts, Principal
from domain.events import EventKind
from domain.realtime import BusEvent, next_change, parse_seq
from domain.scopes import AccessReason, GrantStatus, RecordArea, Relationship, Scope
from runtime.realtime.broker import RESYNC, Hub, Listener

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
POLICY = AgePolicy()


@pytest.mark.parametrize(
    ("event", "channels"),
    [
        (BusEvent(1, EventKind.MESSAGE_RECEIVED, "msg-1", "pat-1"), ["patient:pat-1"]),
        (BusEvent(2, EventKind.RESULT_RELEASED, "res-1", "pat-1"), ["patient:pat-1"]),
        (BusEvent(3, EventKind.APPOINTMENT_CHANGED, "apt-1", "pat-2"), ["patient:pat-2"]),
        # A notification goes to its account only, even though it names the patient.
        (BusEvent(4, EventKind.NOTIFICATION_ADDED, "ntf-1", "pat-1", "acc-9"), ["account:acc-9"]),
        (BusEvent(5, EventKind.NOTIFICATION_ADDED, "ntf-2", "pat-1", None), []),
        (BusEvent(6, EventKind.MESSAGE_RECEIVED, "msg-2", None), []),
    ],
)
def test_each_event_goes_to_its_channel(event: BusEvent, channels: list[str]) -> None:
    assert event.channels() == channels
    assert BusEvent.from_json(event.to_json()) == event


@pytest.mark.parametrize("text", ["0", "17", " 42 ", "999999999999999999"])
def test_a_seq_is_a_decimal_number(text: str) -> None:
    assert parse_seq(text) == int(text)


@pytest.mark.parametrize("text", ["", "-1", "1.5", "abc", "١٢", "1e3", "9999999999999999999"])
def test_anything_else_is_not_a_seq(text: str) -> None:
    with pytest.raises(ValueError, match="sequence"):
        parse_seq(text)


def _grant(
    patient: str,
    relationship: Relationship,
    birth: date,
    ends_at: datetime | None = None,
    status: GrantStatus = GrantStatus.ACTIVE,
) -> GrantFacts:
    return GrantFacts(
        grant_id=f"pxg-{patient}",
        patient_id=patient,
        relationship=relationship,
        scopes=frozenset(Scope),
        status=status,
        starts_at=NOW - timedelta(days=365),
        ends_at=ends_at,
        patient_birth_date=birth,
    )


def test_the_next_change_is_the_earliest_grant_end_or_birthday() -> None:
    child = _grant("kid", Relationship.PARENT, date(2014, 12, 1))  # 12 on 2026-12-01
    parent_of_adult = _grant("mum", Relationship.CAREGIVER, date(1950, 1, 1), NOW + timedelta(3))
    principal = Principal("acc-1", NOW, "pat-self", (child, parent_of_adult))
    assert next_change(principal, ["pat-self"], RecordArea.RESULTS, POLICY) is None
    # The grant ends at noon on the 25th; the day it ends is looked at from its start.
    assert next_change(principal, ["mum"], RecordArea.RESULTS, POLICY) == POLICY.start_of(
        date(2026, 11, 25)
    )
    on_the_day = Principal("acc-1", POLICY.start_of(date(2026, 11, 25)), None, principal.grants)
    assert next_change(on_the_day, ["mum"], RecordArea.RESULTS, POLICY) == NOW + timedelta(3)
    assert next_change(principal, ["kid"], RecordArea.RESULTS, POLICY) == POLICY.start_of(
        date(2026, 12, 1)
    )
    # Appointments stay open to a parent past the 12th birthday: no change then.
    assert next_change(principal, ["kid"], RecordArea.APPOINTMENTS, POLICY) == (
        POLICY.start_of(date(2032, 12, 1))  # the 18th birthday ends a parent grant
    )
    both = next_change(principal, ["kid", "mum"], RecordArea.RESULTS, POLICY)
    assert both == POLICY.start_of(date(2026, 11, 25))


@pytest.mark.parametrize(
    ("grant", "reason"),
    [
        (
            _grant("kid", Relationship.PARENT, date(2012, 1, 1)),
            AccessReason.ADOLESCENT_CONFIDENTIAL,
        ),
        (
            _grant("mum", Relationship.CAREGIVER, date(1950, 1, 1), status=GrantStatus.REVOKED),
            AccessReason.GRANT_NOT_ACTIVE,
        ),
        (
            _grant("mum", Relationship.CAREGIVER, date(1950, 1, 1), NOW),
            AccessReason.GRANT_EXPIRED,
        ),
    ],
)
def test_a_patient_no_longer_readable_is_refused(grant: GrantFacts, reason: AccessReason) -> None:
    principal = Principal("acc-1", NOW, None, (grant,))
    with pytest.raises(AccessDenied) as denied:
        next_change(principal, [grant.patient_id], RecordArea.MESSAGES, POLICY)
    assert denied.value.reason is reason


def test_a_listener_that_falls_behind_is_told_to_catch_up() -> None:
    hub = Hub()
    slow = Listener(["patient:p"], maxsize=3)
    other = Listener(["patient:q"], maxsize=3)
    hub.add(slow)
    hub.add(other)
    for seq in range(1, 5):
        hub.dispatch(BusEvent(seq, EventKind.MESSAGE_RECEIVED, f"m{seq}", "p"))
    assert slow._items == [RESYNC]  # what was queued is dropped: the outbox has it
    assert other._items == []
    slow._items.clear()
    hub.remove(slow)
    hub.dispatch(BusEvent(5, EventKind.MESSAGE_RECEIVED, "m5", "p"))
    assert slow._items == []
