"""Reading EHR feed events strictly (domain/ehr.py): every problem, with its path."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain import ehr

AT = "2026-11-22T11:30:00Z"


def event(event_type: str, data: Any, **envelope: Any) -> dict[str, Any]:
    return {"id": "evt-1", "type": event_type, "occurredAt": AT, "data": data} | envelope


def problems(raw: Any) -> list[tuple[str, str]]:
    with pytest.raises(ehr.InvalidEvent) as invalid:
        ehr.parse_event(raw)
    return [(p.field, p.message) for p in invalid.value.problems]


def fields(raw: Any) -> list[str]:
    return [field for field, _ in problems(raw)]


COMPONENT = {"code": "2345-7", "name": "Glucose", "value": 98, "unit": "mg/dL"}
RESULT = {
    "resultId": "res-ehr-1",
    "patientId": "pat-0000001",
    "name": "Basic metabolic panel",
    "code": "51990-0",
    "kind": "LAB",
    "components": [COMPONENT | {"referenceLow": 70, "referenceHigh": 99}],
}
LINE = {
    "serviceDate": "2026-11-02",
    "patientId": "pat-0000003",
    "description": "Office visit",
    "code": "99213",
    "chargeCents": 20000,
    "insurancePaidCents": 12000,
    "adjustmentCents": 3000,
    "patientCents": 5000,
}
STATEMENT = {
    "statementId": "stm-ehr-1",
    "guarantorPatientId": "pat-0000001",
    "accountNumber": "90000001",
    "statementDate": "2026-11-20",
    "dueDate": "2026-12-15",
    "lineItems": [LINE],
}


def test_a_finalized_result_is_read_with_its_defaults() -> None:
    parsed = ehr.parse_event(event("RESULT_FINALIZED", RESULT))
    assert parsed.id == "evt-1"
    assert parsed.type is ehr.EventType.RESULT_FINALIZED
    assert parsed.occurred_at == datetime(2026, 11, 22, 11, 30, tzinfo=UTC)
    command = parsed.data
    assert isinstance(command, ehr.ResultFinalized)
    assert (command.kind, command.status, command.released_by_provider) == ("lab", "final", False)
    assert command.resulted_at == parsed.occurred_at  # defaults to when it happened
    assert command.components == (
        ehr.Component("2345-7", "Glucose", 98.0, None, "mg/dL", 70.0, 99.0),
    )


def test_each_type_is_read() -> None:
    released = ehr.parse_event(event("RESULT_RELEASED", {"resultId": "res-1"})).data
    assert released == ehr.ResultReleased("res-1", None)
    reply = ehr.parse_event(
        event("PROVIDER_REPLY", {"threadId": "thr-1", "providerId": "prv-1", "body": "Hi"})
    ).data
    assert reply == ehr.ProviderReply("thr-1", "prv-1", "Hi", None, None)
    statement = ehr.parse_event(event("STATEMENT_ISSUED", STATEMENT)).data
    assert isinstance(statement, ehr.StatementIssued)
    assert (statement.currency, statement.due_date) == ("USD", date(2026, 12, 15))
    assert statement.lines[0].patient_cents == 5000
    change = ehr.parse_event(
        event("APPOINTMENT_CHANGED", {"appointmentId": "apt-1", "status": "CANCELLED"})
    ).data
    assert change == ehr.AppointmentChanged("apt-1", None, "cancelled", None, None, None, None)


def test_the_same_event_has_the_same_fingerprint_whatever_its_key_order() -> None:
    one = ehr.parse_event(event("RESULT_RELEASED", {"resultId": "res-1"}))
    reordered = {"data": {"resultId": "res-1"}, "occurredAt": AT, "type": "RESULT_RELEASED"}
    two = ehr.parse_event(reordered | {"id": "evt-1"})
    other = ehr.parse_event(event("RESULT_RELEASED", {"resultId": "res-2"}))
    assert one.fingerprint == two.fingerprint != other.fingerprint


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param([], [("(body)", "must be a JSON object")], id="not-an-object"),
        pytest.param(
            {},
            [
                ("id", "is required"),
                ("type", "is required"),
                ("occurredAt", "is required"),
                ("data", "is required"),
            ],
            id="empty",
        ),
        pytest.param(
            event("RESULT_EXPLODED", {}, id="bad id!", occurredAt="yesterday", extra=1),
            [
                ("id", "must be an event id: 1-100 letters, digits, . _ : -"),
                ("type", "must be one of " + ", ".join(t.value for t in ehr.EventType)),
                ("occurredAt", "must be an ISO-8601 date-time with a time zone"),
                ("extra", "is not a known field"),
            ],
            id="envelope",
        ),
        pytest.param(
            event("RESULT_RELEASED", {"resultId": "res-1"}, occurredAt="2026-11-22T11:30:00"),
            [("occurredAt", "must be an ISO-8601 date-time with a time zone")],
            id="naive-time",
        ),
        pytest.param(
            event("RESULT_RELEASED", "res-1"),
            [("data", "must be a JSON object")],
            id="data-not-an-object",
        ),
    ],
)
def test_envelope_problems(raw: Any, expected: list[tuple[str, str]]) -> None:
    assert problems(raw) == expected


@pytest.mark.parametrize(
    ("event_type", "data", "expected"),
    [
        pytest.param(
            "RESULT_FINALIZED",
            RESULT | {"kind": "lab", "flag": "HIGH", "resultId": 12},
            ["data.resultId", "data.kind", "data.flag"],
            id="result-kind-id-and-unknown-field",
        ),
        pytest.param(
            "RESULT_FINALIZED",
            RESULT
            | {
                "components": [
                    {"code": "2345-7", "name": "Glucose"},
                    COMPONENT | {"value": True, "referenceLow": 9, "referenceHigh": 1},
                    "x",
                ]
            },
            [
                "data.components[2]",
                "data.components[0].value",
                "data.components[1].value",
                "data.components[1].value",
                "data.components[1].referenceLow",
            ],
            id="components",
        ),
        pytest.param(
            "RESULT_FINALIZED",
            RESULT | {"collectedAt": "2026-11-22T12:00:00Z", "resultedAt": AT, "status": "DRAFT"},
            ["data.status", "data.collectedAt"],
            id="result-dates-and-status",
        ),
        pytest.param(
            "RESULT_FINALIZED",
            {k: v for k, v in RESULT.items() if k not in ("name", "components")},
            ["data.name", "data.components"],
            id="result-missing-fields",
        ),
        pytest.param(
            "PROVIDER_REPLY",
            {"threadId": "thr-1", "providerId": "prv-1", "body": "   ", "sentBy": "x"},
            ["data.body", "data.sentBy"],
            id="blank-reply",
        ),
        pytest.param(
            "PROVIDER_REPLY",
            {"threadId": "thr-1", "providerId": "prv-1", "body": "x" * 20001},
            ["data.body"],
            id="long-reply",
        ),
        pytest.param(
            "STATEMENT_ISSUED",
            STATEMENT
            | {
                "dueDate": "2026-11-01",
                "currency": "usd",
                "lineItems": [LINE | {"patientCents": 4000, "chargeCents": 1.5}],
            },
            [
                "data.currency",
                "data.lineItems[0].chargeCents",
                "data.lineItems[0].chargeCents",
                "data.dueDate",
            ],
            id="statement-sums-dates-currency",
        ),
        pytest.param(
            "STATEMENT_ISSUED",
            STATEMENT | {"lineItems": [], "statementDate": "2026-02-30"},
            ["data.statementDate", "data.lineItems"],
            id="statement-without-lines",
        ),
        pytest.param(
            "APPOINTMENT_CHANGED",
            {"appointmentId": "apt-1"},
            ["data.status"],
            id="appointment-without-change",
        ),
        pytest.param(
            "APPOINTMENT_CHANGED",
            {"appointmentId": "apt-1", "status": "GONE", "durationMinutes": 0},
            ["data.status", "data.durationMinutes"],
            id="appointment-bad-values",
        ),
    ],
)
def test_data_problems(event_type: str, data: dict[str, Any], expected: list[str]) -> None:
    assert fields(event(event_type, data)) == expected
