"""The EHR feed's events, read strictly: every problem of a payload is reported at once,
with the path of the field at fault, and an event with any problem is applied not at all.

An event is `{"id", "type", "occurredAt", "data"}`; `data` depends on the type (docs/ehr-feed.md).
Unknown fields are refused too: a field we would silently drop (a `flag` the EHR computed,
say) is a mapping error the integration team needs to hear about.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from domain import ehr_explanations, ehr_maintenance, ehr_notes

EVENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
OBJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,39}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_ITEMS = 200
MAX_CENTS = 10**10
IDENT = "an identifier: 1-40 letters, digits and . _ : - (starting with a letter or digit)"
T = TypeVar("T")


class EventType(Enum):
    RESULT_FINALIZED = "RESULT_FINALIZED"
    RESULT_RELEASED = "RESULT_RELEASED"
    PROVIDER_REPLY = "PROVIDER_REPLY"
    STATEMENT_ISSUED = "STATEMENT_ISSUED"
    APPOINTMENT_CHANGED = "APPOINTMENT_CHANGED"
    NOTE_SIGNED = "NOTE_SIGNED"  # domain/ehr_notes.py
    RESULT_EXPLANATION_UPDATED = "RESULT_EXPLANATION_UPDATED"  # domain/ehr_explanations.py
    HEALTH_MAINTENANCE_UPDATED = "HEALTH_MAINTENANCE_UPDATED"  # domain/ehr_maintenance.py
    # patient tasks (docs/patient-tasks.md)
    APPOINTMENT_REQUEST_ANSWERED = "APPOINTMENT_REQUEST_ANSWERED"
    PRESCRIPTION_RENEWAL_ANSWERED = "PRESCRIPTION_RENEWAL_ANSWERED"
    COVERAGE_UPDATED = "COVERAGE_UPDATED"


@dataclass(frozen=True)
class Problem:
    field: str  # a path into the event: "data.components[2].value"
    message: str


class InvalidEvent(Exception):
    """The event cannot be applied; `problems` says every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


# -- commands: what each event type asks for ------------------------------------------
@dataclass(frozen=True)
class Component:
    code: str
    name: str
    value: float | None
    value_text: str | None
    unit: str | None
    ref_low: float | None
    ref_high: float | None


@dataclass(frozen=True)
class ResultFinalized:
    result_id: str
    patient_id: str
    name: str
    code: str
    kind: str  # "lab" | "imaging"
    status: str  # "final" | "corrected"
    ordering_provider_id: str | None
    collected_at: datetime | None
    resulted_at: datetime
    released_by_provider: bool  # True: released with the finalization; False: policy decides
    provider_comment: str | None
    report: str | None
    components: tuple[Component, ...]


@dataclass(frozen=True)
class ResultReleased:
    result_id: str
    patient_id: str | None  # a cross-check when given


@dataclass(frozen=True)
class ProviderReply:
    thread_id: str
    provider_id: str
    body: str
    message_id: str | None
    patient_id: str | None


@dataclass(frozen=True)
class LineItem:
    line_id: str | None
    service_date: date
    patient_id: str
    description: str
    code: str
    charge_cents: int
    insurance_paid_cents: int
    adjustment_cents: int
    patient_cents: int


@dataclass(frozen=True)
class StatementIssued:
    statement_id: str
    guarantor_patient_id: str
    account_number: str
    statement_date: date
    due_date: date
    currency: str
    lines: tuple[LineItem, ...]


@dataclass(frozen=True)
class AppointmentChanged:
    appointment_id: str
    patient_id: str | None
    status: str | None
    starts_at: datetime | None
    duration_minutes: int | None
    provider_id: str | None
    department_id: str | None


@dataclass(frozen=True)
class BookedAppointment:
    """The appointment the clinic booked to answer a request."""

    appointment_id: str
    starts_at: datetime
    duration_minutes: int
    provider_id: str
    department_id: str
    visit_type: str | None  # None: the requested visit type


@dataclass(frozen=True)
class AppointmentRequestAnswered:
    request_id: str
    patient_id: str | None
    status: str  # "scheduled" | "declined"
    appointment: BookedAppointment | None  # when scheduled
    decline_reason: str | None  # when declined


@dataclass(frozen=True)
class RenewalAnswered:
    renewal_id: str
    patient_id: str | None
    status: str  # "approved" | "denied"
    refills: int | None  # the new prescription's refills, when approved
    end_date: date | None  # the new prescription's end, when approved (None: none)
    denial_reason: str | None  # when denied


@dataclass(frozen=True)
class Copay:
    service: str
    amount_cents: int


@dataclass(frozen=True)
class CoverageUpdated:
    coverage_id: str
    patient_id: str
    priority: int
    payer: str
    plan: str
    member_id: str
    group_number: str | None
    subscriber_name: str
    subscriber_relation: str
    effective_from: date
    effective_to: date | None
    currency: str
    copays: tuple[Copay, ...]
    deductible_cents: int | None
    deductible_met_cents: int | None
    out_of_pocket_max_cents: int | None
    out_of_pocket_met_cents: int | None


Command = (
    ResultFinalized
    | ResultReleased
    | ProviderReply
    | StatementIssued
    | AppointmentChanged
    | ehr_notes.NoteSigned
    | ehr_explanations.ExplanationUpdated
    | ehr_maintenance.MaintenanceUpdated
    | AppointmentRequestAnswered
    | RenewalAnswered
    | CoverageUpdated
)


@dataclass(frozen=True)
class Event:
    id: str
    type: EventType
    occurred_at: datetime
    data: Command
    fingerprint: str  # sha256 of the canonical JSON: a re-sent id must carry the same event


# -- reading JSON strictly -------------------------------------------------------------
class _Fields:
    """One JSON object: each read notes its problem and returns a placeholder, so every
    problem is found in one pass; `parse_event` raises if any was noted."""

    def __init__(self, raw: object, path: str, problems: list[Problem]) -> None:
        self.path, self.problems, self.seen = path, problems, set[str]()
        self.valid = isinstance(raw, dict)  # if not, that is its one problem
        self.raw: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
        if not self.valid:
            problems.append(Problem(path or "(body)", "must be a JSON object"))

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str, message: str) -> None:
        if self.valid:
            self.problems.append(Problem(self.at(key), message))

    def _get(self, key: str, required: bool) -> Any:
        self.seen.add(key)
        value = self.raw.get(key)
        if value is None and required:
            self.problem(key, "is required")
        return value

    def field(self, key: str) -> Any:
        """A required value of any type, read as is (checked by the caller)."""
        return self._get(key, True)

    def _typed(
        self, key: str, required: bool, check: Callable[[Any], T | None], want: str
    ) -> T | None:
        value = self._get(key, required)
        if value is None:
            return None
        checked = check(value)
        if checked is None:
            self.problem(key, f"must be {want}")
        return checked

    def text(self, key: str, max_len: int = 200) -> str:
        return self.optional_text(key, max_len, required=True) or ""

    def optional_text(self, key: str, max_len: int = 200, *, required: bool = False) -> str | None:
        value = self._typed(key, required, lambda v: v if isinstance(v, str) else None, "a string")
        if value is None:
            return None
        if not value.strip():
            self.problem(key, "must not be blank")
        elif "\x00" in value:  # no text of ours holds one, and PostgreSQL refuses it
            self.problem(key, "must not hold the NUL character")
        elif len(value) > max_len:
            self.problem(key, f"must be at most {max_len} characters")
        return value

    def matching(
        self, key: str, pattern: re.Pattern[str], want: str, *, required: bool = True
    ) -> str | None:
        def check(v: Any) -> str | None:
            # fullmatch: `$` alone would let a trailing newline through
            return v if isinstance(v, str) and pattern.fullmatch(v) else None

        return self._typed(key, required, check, want)

    def ident(self, key: str) -> str:
        return self.matching(key, OBJECT_ID, IDENT) or ""

    def optional_ident(self, key: str) -> str | None:
        return self.matching(key, OBJECT_ID, IDENT, required=False)

    def integer(self, key: str, low: int, high: int, *, required: bool = True) -> int | None:
        def check(v: Any) -> int | None:
            return v if isinstance(v, int) and not isinstance(v, bool) else None

        value = self._typed(key, required, check, "an integer")
        if value is not None and not low <= value <= high:
            self.problem(key, f"must be between {low} and {high}")
        return value

    def number(self, key: str) -> float | None:
        def check(v: Any) -> float | None:
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            return float(v) if ok else None

        return self._typed(key, False, check, "a number")

    def moment(self, key: str, *, required: bool = True) -> datetime | None:
        return self._typed(key, required, _moment, "an ISO-8601 date-time with a time zone")

    def day(self, key: str) -> date:
        return self._typed(key, True, _day, "a date (YYYY-MM-DD)") or date.min

    def choice(self, key: str, choices: Mapping[str, T], *, required: bool = True) -> T | None:
        want = "one of " + ", ".join(choices)
        return self._typed(
            key, required, lambda v: choices.get(v) if isinstance(v, str) else None, want
        )

    def optional_object(self, key: str) -> _Fields | None:
        raw = self._get(key, False)
        return None if raw is None else _Fields(raw, self.at(key), self.problems)

    def objects(self, key: str, *, min_items: int = 0) -> list[_Fields]:
        items = self._typed(key, True, lambda v: v if isinstance(v, list) else None, "a list")
        if items is None:
            return []
        if not min_items <= len(items) <= MAX_ITEMS:
            self.problem(key, f"must hold {min_items} to {MAX_ITEMS} items")
        return [
            _Fields(item, f"{self.at(key)}[{i}]", self.problems) for i, item in enumerate(items)
        ]

    def done(self) -> None:
        for key in sorted(set(self.raw) - self.seen):
            self.problem(key, "is not a known field")


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            return None
        parsed.astimezone(UTC)  # year 1 at +14:00 is before any datetime once in UTC
    except (ValueError, OverflowError):
        return None
    return parsed


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# -- the event types -------------------------------------------------------------------
KINDS = {"LAB": "lab", "IMAGING": "imaging"}
FINAL = {"FINAL": "final", "CORRECTED": "corrected"}
RELEASE = {"RELEASED": True, "POLICY": False}
APPOINTMENT_STATUSES = {
    s.upper(): s
    for s in ("scheduled", "confirmed", "checked_in", "completed", "cancelled", "no_show")
}
EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def _component(f: _Fields) -> Component:
    component = Component(
        code=f.text("code", 20),
        name=f.text("name"),
        value=f.number("value"),
        value_text=f.optional_text("valueText"),
        unit=f.optional_text("unit", 40),
        ref_low=f.number("referenceLow"),
        ref_high=f.number("referenceHigh"),
    )
    if component.value is None and component.value_text is None:
        f.problem("value", "is required (or valueText, for a value that is not a number)")
    low, high = component.ref_low, component.ref_high
    if low is not None and high is not None and low > high:
        f.problem("referenceLow", "must not be above referenceHigh")
    f.done()
    return component


def _result_finalized(f: _Fields, occurred_at: datetime) -> ResultFinalized:
    command = ResultFinalized(
        result_id=f.ident("resultId"),
        patient_id=f.ident("patientId"),
        name=f.text("name"),
        code=f.text("code", 20),
        kind=f.choice("kind", KINDS) or "",
        status=f.choice("status", FINAL, required=False) or "final",
        ordering_provider_id=f.optional_ident("orderingProviderId"),
        collected_at=f.moment("collectedAt", required=False),
        resulted_at=f.moment("resultedAt", required=False) or occurred_at,
        released_by_provider=bool(f.choice("release", RELEASE, required=False)),
        provider_comment=f.optional_text("providerComment", 4000),
        report=f.optional_text("report", 20000),
        components=tuple(_component(c) for c in f.objects("components")),
    )
    if command.collected_at is not None and command.collected_at > command.resulted_at:
        f.problem("collectedAt", "must not be after resultedAt")
    return command


def _result_released(f: _Fields, _occurred_at: datetime) -> ResultReleased:
    return ResultReleased(f.ident("resultId"), f.optional_ident("patientId"))


def _provider_reply(f: _Fields, _occurred_at: datetime) -> ProviderReply:
    return ProviderReply(
        thread_id=f.ident("threadId"),
        provider_id=f.ident("providerId"),
        body=f.text("body", 20000),
        message_id=f.optional_ident("messageId"),
        patient_id=f.optional_ident("patientId"),
    )


def _line_item(f: _Fields) -> LineItem:
    cents = [
        f.integer(k, 0, MAX_CENTS) or 0
        for k in ("chargeCents", "insurancePaidCents", "adjustmentCents", "patientCents")
    ]
    line = LineItem(
        line_id=f.optional_ident("lineItemId"),
        service_date=f.day("serviceDate"),
        patient_id=f.ident("patientId"),
        description=f.text("description", 300),
        code=f.text("code", 20),
        charge_cents=cents[0],
        insurance_paid_cents=cents[1],
        adjustment_cents=cents[2],
        patient_cents=cents[3],
    )
    if line.charge_cents != sum(cents[1:]):
        f.problem("chargeCents", "must equal insurancePaidCents + adjustmentCents + patientCents")
    f.done()
    return line


def _statement_issued(f: _Fields, _occurred_at: datetime) -> StatementIssued:
    command = StatementIssued(
        statement_id=f.ident("statementId"),
        guarantor_patient_id=f.ident("guarantorPatientId"),
        account_number=f.text("accountNumber", 20),
        statement_date=f.day("statementDate"),
        due_date=f.day("dueDate"),
        currency=f.matching("currency", CURRENCY, "a three-letter code", required=False) or "USD",
        lines=tuple(_line_item(line) for line in f.objects("lineItems", min_items=1)),
    )
    if command.due_date < command.statement_date:
        f.problem("dueDate", "must not be before statementDate")
    return command


def _appointment_changed(f: _Fields, _occurred_at: datetime) -> AppointmentChanged:
    command = AppointmentChanged(
        appointment_id=f.ident("appointmentId"),
        patient_id=f.optional_ident("patientId"),
        status=f.choice("status", APPOINTMENT_STATUSES, required=False),
        starts_at=f.moment("startsAt", required=False),
        duration_minutes=f.integer("durationMinutes", 5, 720, required=False),
        provider_id=f.optional_ident("providerId"),
        department_id=f.optional_ident("departmentId"),
    )
    changes = (command.status, command.starts_at, command.duration_minutes)
    if all(c is None for c in (*changes, command.provider_id, command.department_id)):
        f.problem(
            "status",
            "a change is required: status, startsAt, durationMinutes, providerId or departmentId",
        )
    return command


REQUEST_ANSWERS = {"SCHEDULED": "scheduled", "DECLINED": "declined"}


def _booked(f: _Fields) -> BookedAppointment:
    booked = BookedAppointment(
        appointment_id=f.ident("appointmentId"),
        starts_at=f.moment("startsAt") or EPOCH,
        duration_minutes=f.integer("durationMinutes", 5, 720) or 0,
        provider_id=f.ident("providerId"),
        department_id=f.ident("departmentId"),
        visit_type=f.optional_text("visitType", 100),
    )
    f.done()
    return booked


def _request_answered(f: _Fields, _occurred_at: datetime) -> AppointmentRequestAnswered:
    status = f.choice("status", REQUEST_ANSWERS) or ""
    appointment = f.optional_object("appointment")
    command = AppointmentRequestAnswered(
        request_id=f.ident("requestId"),
        patient_id=f.optional_ident("patientId"),
        status=status,
        appointment=_booked(appointment) if appointment is not None else None,
        decline_reason=f.optional_text("declineReason", 500),
    )
    if status == "scheduled" and command.appointment is None:
        f.problem("appointment", "is required when the request is SCHEDULED")
    if status == "declined" and command.appointment is not None:
        f.problem("appointment", "must be absent when the request is DECLINED")
    if status == "declined" and command.decline_reason is None:
        f.problem("declineReason", "is required when the request is DECLINED")
    return command


RENEWAL_ANSWERS = {"APPROVED": "approved", "DENIED": "denied"}


def _renewal_answered(f: _Fields, _occurred_at: datetime) -> RenewalAnswered:
    status = f.choice("status", RENEWAL_ANSWERS) or ""
    end = f._typed("endDate", False, _day, "a date (YYYY-MM-DD)")
    command = RenewalAnswered(
        renewal_id=f.ident("renewalId"),
        patient_id=f.optional_ident("patientId"),
        status=status,
        refills=f.integer("refills", 0, 99, required=status == "approved"),
        end_date=end,
        denial_reason=f.optional_text("denialReason", 500, required=status == "denied"),
    )
    if status == "denied" and (command.refills is not None or end is not None):
        f.problem("refills", "must be absent when the renewal is DENIED")
    return command


SUBSCRIBER_RELATIONS = {r.upper(): r for r in ("self", "spouse", "child", "other")}


def _copay(f: _Fields) -> Copay:
    copay = Copay(f.text("service", 100), f.integer("amountCents", 0, MAX_CENTS) or 0)
    f.done()
    return copay


def _coverage_updated(f: _Fields, _occurred_at: datetime) -> CoverageUpdated:
    cents = [
        f.integer(k, 0, MAX_CENTS, required=False)
        for k in (
            "deductibleCents",
            "deductibleMetCents",
            "outOfPocketMaxCents",
            "outOfPocketMetCents",
        )
    ]
    command = CoverageUpdated(
        coverage_id=f.ident("coverageId"),
        patient_id=f.ident("patientId"),
        priority=f.integer("priority", 1, 9, required=False) or 1,
        payer=f.text("payer"),
        plan=f.text("plan"),
        member_id=f.text("memberId", 40),
        group_number=f.optional_text("groupNumber", 40),
        subscriber_name=f.text("subscriberName"),
        subscriber_relation=f.choice("subscriberRelation", SUBSCRIBER_RELATIONS) or "",
        effective_from=f.day("effectiveFrom"),
        effective_to=f._typed("effectiveTo", False, _day, "a date (YYYY-MM-DD)"),
        currency=f.matching("currency", CURRENCY, "a three-letter code", required=False) or "USD",
        copays=tuple(_copay(c) for c in f.objects("copays")) if "copays" in f.raw else (),
        deductible_cents=cents[0],
        deductible_met_cents=cents[1],
        out_of_pocket_max_cents=cents[2],
        out_of_pocket_met_cents=cents[3],
    )
    f.seen.add("copays")
    if command.effective_to is not None and command.effective_to < command.effective_from:
        f.problem("effectiveTo", "must not be before effectiveFrom")
    return command


PARSERS: dict[EventType, Callable[[_Fields, datetime], Command]] = {
    EventType.RESULT_FINALIZED: _result_finalized,
    EventType.RESULT_RELEASED: _result_released,
    EventType.PROVIDER_REPLY: _provider_reply,
    EventType.STATEMENT_ISSUED: _statement_issued,
    EventType.APPOINTMENT_CHANGED: _appointment_changed,
    EventType.NOTE_SIGNED: ehr_notes.note_signed,
    EventType.RESULT_EXPLANATION_UPDATED: ehr_explanations.explanation_updated,
    EventType.HEALTH_MAINTENANCE_UPDATED: ehr_maintenance.maintenance_updated,
    EventType.APPOINTMENT_REQUEST_ANSWERED: _request_answered,
    EventType.PRESCRIPTION_RENEWAL_ANSWERED: _renewal_answered,
    EventType.COVERAGE_UPDATED: _coverage_updated,
}


def fingerprint(raw: object) -> str:
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_event(raw: object) -> Event:
    """The event, or InvalidEvent listing every problem of the payload."""
    problems: list[Problem] = []
    envelope = _Fields(raw, "", problems)
    event_id = envelope.matching("id", EVENT_ID, "an event id: 1-100 letters, digits, . _ : -")
    event_type = envelope.choice("type", {t.value: t for t in EventType})
    occurred_at = envelope.moment("occurredAt") or EPOCH
    raw_data = envelope.field("data")
    envelope.done()
    command: Command | None = None
    if event_type is not None and raw_data is not None:
        data = _Fields(raw_data, "data", problems)
        command = PARSERS[event_type](data, occurred_at)
        data.done()
    if problems or event_id is None or event_type is None or command is None:
        raise InvalidEvent(problems)
    return Event(event_id, event_type, occurred_at, command, fingerprint(raw))


# -- rules applied with what the database says -----------------------------------------
def unknown(field: str, what: str) -> InvalidEvent:
    """A reference to something the portal does not have (or that belongs to someone else)."""
    return InvalidEvent([Problem(field, f"no such {what}")])


def check_owner(field: str, expected: str | None, actual: str) -> None:
    """An optional `patientId` cross-check: the referenced object must be that patient's."""
    if expected is not None and expected != actual:
        raise InvalidEvent([Problem(field, "does not match the patient of the referenced object")])


@dataclass(frozen=True)
class NoticeText:
    title: str
    body: str


def result_notice(corrected: bool) -> NoticeText:
    """Generic on purpose: notifications may go out by email or SMS (no test names)."""
    if corrected:
        return NoticeText("Updated test result", "A corrected test result is ready to view.")
    return NoticeText("New test result", "A new test result is ready to view.")


def reply_notice(provider_name: str) -> NoticeText:
    return NoticeText(
        f"New message from {provider_name}", "You have a new message from your care team."
    )


def statement_notice(statement_date: date, amount_due: str) -> NoticeText:
    return NoticeText(
        "New billing statement",
        f"Your statement of {statement_date.isoformat()} is ready; amount due {amount_due}.",
    )


def appointment_notice(
    status: str, starts_at: datetime, old_starts_at: datetime, visit_type: str, zone: str
) -> NoticeText:
    """`zone`: the department's time zone, in which the patient reads the time."""
    local = starts_at.astimezone(ZoneInfo(zone)).strftime("%a %b %d, %Y at %I:%M %p %Z")
    if status == "cancelled":
        return NoticeText("Appointment cancelled", f"Your {visit_type} on {local} was cancelled.")
    if starts_at != old_starts_at:
        return NoticeText("Appointment rescheduled", f"Your {visit_type} is now on {local}.")
    return NoticeText("Appointment updated", f"Your {visit_type} on {local} was updated.")


def maintenance_notice() -> NoticeText:
    """Generic on purpose: a screening's name can say what it is for."""
    return NoticeText(
        "Health reminder", "Something is due for your health. See your health reminders."
    )


def note_notice(amended: bool) -> NoticeText:
    """Generic on purpose: no title, author or kind of note."""
    if amended:
        return NoticeText("Updated clinical note", "A note in your record was updated.")
    return NoticeText("New clinical note", "A new note from your care team is ready to read.")
