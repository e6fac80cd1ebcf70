"""Result release and flags: values reach a patient or proxy only once released."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

from domain.errors import DomainError
from domain.messages import (
    Category,
    MessagingPolicy,
    RecipientKind,
    Route,
    route_new_thread,
)


class ReleaseStatus(Enum):
    RELEASED = "RELEASED"
    PENDING_REVIEW = "PENDING_REVIEW"  # waits for the EHR (provider review, not final yet)
    HELD_UNTIL = "HELD_UNTIL"  # released automatically at expected_release_at
    HELD_AT_PATIENT_REQUEST = "HELD_AT_PATIENT_REQUEST"  # the patient asked to wait for the doctor


class Flag(Enum):
    LOW = "LOW"
    HIGH = "HIGH"
    CRITICAL_LOW = "CRITICAL_LOW"
    CRITICAL_HIGH = "CRITICAL_HIGH"
    NORMAL = "NORMAL"


@dataclass(frozen=True)
class ReleasePolicy:
    """Hold before automatic release, by result code first, then by kind.

    A hold of zero releases on finalization (the information-blocking rule's default);
    None means never automatically: the EHR has to release it.
    """

    default_hold: timedelta | None = timedelta(0)
    hold_by_kind: Mapping[str, timedelta | None] = field(default_factory=dict)
    hold_by_code: Mapping[str, timedelta | None] = field(default_factory=dict)

    def hold_for(self, kind: str, code: str) -> timedelta | None:
        if code in self.hold_by_code:
            return self.hold_by_code[code]
        if kind in self.hold_by_kind:
            return self.hold_by_kind[kind]
        return self.default_hold


FINAL_STATUSES = frozenset({"final", "corrected"})


@dataclass(frozen=True)
class Release:
    status: ReleaseStatus
    released_at: datetime | None = None
    expected_release_at: datetime | None = None

    @property
    def released(self) -> bool:
        return self.status is ReleaseStatus.RELEASED


def release_of(
    *,
    kind: str,
    code: str,
    status: str,
    resulted_at: datetime | None,
    released_at: datetime | None,
    held_by_patient: bool,
    now: datetime,
    policy: ReleasePolicy,
) -> Release:
    """Where a result stands for its patient and proxies at `now`."""
    # The EHR released it (provider reviewed): visible, whatever else holds.
    if released_at is not None and released_at <= now:
        return Release(ReleaseStatus.RELEASED, released_at)
    # The patient asked to hear it from their doctor first: only the EHR releases it.
    if held_by_patient:
        return Release(ReleaseStatus.HELD_AT_PATIENT_REQUEST)
    hold = policy.hold_for(kind, code)
    # Preliminary results and kinds that are never automatic wait for the EHR.
    if status not in FINAL_STATUSES or resulted_at is None or hold is None:
        return Release(ReleaseStatus.PENDING_REVIEW)
    automatic_at = resulted_at + hold
    if automatic_at <= now:
        return Release(ReleaseStatus.RELEASED, automatic_at)
    return Release(ReleaseStatus.HELD_UNTIL, None, automatic_at)


class ResultFacts(Protocol):
    """What the release rule reads of a stored result (a row, a trend point)."""

    @property
    def kind(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def resulted_at(self) -> datetime | None: ...
    @property
    def released_at(self) -> datetime | None: ...


def release_of_result(
    result: ResultFacts, *, held_by_patient: bool, now: datetime, policy: ReleasePolicy
) -> Release:
    """`release_of` for a stored result."""
    return release_of(
        kind=result.kind,
        code=result.code,
        status=result.status,
        resulted_at=result.resulted_at,
        released_at=result.released_at,
        held_by_patient=held_by_patient,
        now=now,
        policy=policy,
    )


def flag_of(
    value: float | None,
    low: float | None,
    high: float | None,
    critical_low: float | None = None,
    critical_high: float | None = None,
) -> Flag | None:
    """The flag computed from value and range; never trusted from input. None: no numeric
    value, or no range to judge it by (NORMAL would claim a judgement nobody made)."""
    if value is None:
        return None
    if low is None and high is None and critical_low is None and critical_high is None:
        return None
    if critical_low is not None and value < critical_low:
        return Flag.CRITICAL_LOW
    if critical_high is not None and value > critical_high:
        return Flag.CRITICAL_HIGH
    if low is not None and value < low:
        return Flag.LOW
    if high is not None and value > high:
        return Flag.HIGH
    return Flag.NORMAL


class Ranged(Protocol):
    """A value with its reference range (a result component's row)."""

    @property
    def value(self) -> float | None: ...
    @property
    def ref_low(self) -> float | None: ...
    @property
    def ref_high(self) -> float | None: ...


def flags_of(readings: Sequence[Ranged]) -> list[Flag | None]:
    """`flag_of(r.value, r.ref_low, r.ref_high)` of each reading, in order: the same rule
    (no critical limits), in one loop without a call per reading (~50 components a
    dashboard; tests/domain checks the two agree)."""
    flags: list[Flag | None] = [None] * len(readings)
    for index, reading in enumerate(readings):
        value, low, high = reading.value, reading.ref_low, reading.ref_high
        if value is None or (low is None and high is None):
            continue
        if low is not None and value < low:
            flags[index] = _LOW
        elif high is not None and value > high:
            flags[index] = _HIGH
        else:
            flags[index] = _NORMAL
    return flags


_LOW, _HIGH, _NORMAL = Flag.LOW, Flag.HIGH, Flag.NORMAL


CATEGORY = Category.MEDICAL_QUESTION


class ResultNotFound(DomainError):
    code = "RESULT_NOT_FOUND"
    default_message = "This result does not exist."


class ResultNotReleased(DomainError):
    code = "RESULT_NOT_RELEASED"
    default_message = "You can ask about a result once it is released to you."


def route_question(
    ordering_provider_id: str | None, pcp_id: str | None, policy: MessagingPolicy
) -> Route:
    if ordering_provider_id is not None:
        return Route(RecipientKind.PROVIDER, provider_id=ordering_provider_id)
    return route_new_thread(CATEGORY, None, (), pcp_id, policy)


def question_subject(result_name: str, policy: MessagingPolicy) -> str:
    subject = " ".join(f"Question about my result: {result_name}".split())
    return subject[: policy.max_subject_chars]
