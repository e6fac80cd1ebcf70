"""What a published event is, where it goes, and when a subscriber must be checked again.

Pure values and rules: no I/O. The outbox gives every event a sequence number `seq`;
outbox writers are serialized (persistence/outbox_order.py), so seq order is commit order
and a subscriber can resume after the last seq it saw without missing a later commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.access import AgePolicy, Principal, access_patient, patient_context
from domain.events import EventKind
from domain.scopes import RecordArea


@dataclass(frozen=True)
class BusEvent:
    """An outbox row as the broker carries it: ids only, subscribers reload the data."""

    seq: int
    kind: EventKind
    object_id: str
    patient_id: str | None = None
    account_id: str | None = None
    # When this process learnt of its commit (`time.perf_counter()`; 0: unknown), for the
    # commit-to-send metric only: not carried between instances, not compared.
    committed: float = field(default=0.0, compare=False, repr=False)

    def channels(self) -> list[str]:
        """Notifications go to their account; everything else to the patient it is about."""
        if self.kind is EventKind.NOTIFICATION_ADDED:
            return [account_channel(self.account_id)] if self.account_id else []
        return [patient_channel(self.patient_id)] if self.patient_id else []

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind.value,
            "object_id": self.object_id,
            "patient_id": self.patient_id,
            "account_id": self.account_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BusEvent:
        return cls(
            seq=int(data["seq"]),
            kind=EventKind(data["kind"]),
            object_id=str(data["object_id"]),
            patient_id=data.get("patient_id"),
            account_id=data.get("account_id"),
        )


class ResumeWindowPassed(Exception):
    """A subscriber resumed after a seq below the outbox's pruned-through watermark: events
    it missed may be gone, so the stream ends rather than resume with a silent gap."""

    def __init__(self, after: int, pruned_through: int) -> None:
        super().__init__(f"resume after {after} below the pruned-through seq {pruned_through}")
        self.after, self.pruned_through = after, pruned_through


def patient_channel(patient_id: str) -> str:
    return f"patient:{patient_id}"


def account_channel(account_id: str) -> str:
    return f"account:{account_id}"


def parse_seq(text: str) -> int:
    """A client's `afterSeq`: the decimal seq of an event it received. ValueError if not."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ValueError("not a sequence id")
    return int(text)


def next_change(
    principal: Principal, patient_ids: Iterable[str], area: RecordArea, policy: AgePolicy
) -> datetime | None:
    """The first future instant at which the principal's access to `area` of one of these
    patients may change on its own (a grant's end, a birthday of the age rules).

    Raises AccessDenied if one of them is not readable now.
    """
    instants = []
    for patient_id in patient_ids:
        access_patient(principal, patient_id, area, policy)  # AccessDenied unless readable now
        context = patient_context(principal, patient_id, policy)
        decision = context.area(area)
        if context.expires_at is not None:
            instants.append(context.expires_at)
        if decision.changes_on is not None and decision.changes_to is False:
            instants.append(policy.start_of(decision.changes_on))
    # A change dated today may already have begun (a day starts before its end instant).
    future = [instant for instant in instants if instant > principal.now]
    return min(future) if future else None
