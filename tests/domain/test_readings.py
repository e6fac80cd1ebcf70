"""Home readings (domain/readings.py) and records release requests (domain/releases.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.errors import DomainError
from domain.readings import ReadingKind, check_reading
from domain.releases import PostalAddress, RecipientKind, check_release_request
from domain.scopes import RecordArea

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
GLUCOSE, PRESSURE, WEIGHT = (
    ReadingKind.BLOOD_GLUCOSE,
    ReadingKind.BLOOD_PRESSURE,
    ReadingKind.WEIGHT,
)


def reading(kind: ReadingKind, unit: str, **values: Any) -> Any:
    taken_at = values.pop("taken_at", NOW - timedelta(hours=1))
    return check_reading(kind=kind, unit=unit, taken_at=taken_at, now=NOW, **values)


@pytest.mark.parametrize(
    ("kind", "unit", "values", "stored_unit"),
    [
        pytest.param(GLUCOSE, "mg/dL", {"value": 98.0}, "mg/dL", id="glucose-mg-dl"),
        pytest.param(GLUCOSE, "MMOL/l", {"value": 5.4}, "mmol/L", id="glucose-mmol-any-case"),
        pytest.param(GLUCOSE, "mg/dL", {"value": 10.0}, "mg/dL", id="glucose-lowest"),
        pytest.param(GLUCOSE, "mmol/L", {"value": 55.0}, "mmol/L", id="glucose-mmol-high"),
        pytest.param(WEIGHT, "kg", {"value": 72.5}, "kg", id="weight-kg"),
        pytest.param(WEIGHT, "lb", {"value": 160.0}, "lb", id="weight-lb"),
        pytest.param(WEIGHT, "kg", {"value": 3.2}, "kg", id="weight-newborn"),
        pytest.param(PRESSURE, "mmHg", {"systolic": 120, "diastolic": 80}, "mmHg", id="bp"),
        pytest.param(
            PRESSURE,
            " mmhg ",
            {"systolic": 300, "diastolic": 200, "taken_at": NOW + timedelta(minutes=4)},
            "mmHg",
            id="bp-limits-and-clock-skew",
        ),
    ],
)
def test_accepted_readings(
    kind: ReadingKind, unit: str, values: dict[str, Any], stored_unit: str
) -> None:
    checked = reading(kind, unit, **values)
    assert (checked.kind, checked.unit) == (kind, stored_unit)
    assert checked.value == values.get("value")
    assert (checked.systolic, checked.diastolic) == (
        values.get("systolic"),
        values.get("diastolic"),
    )


@pytest.mark.parametrize(
    ("kind", "unit", "values", "code", "field"),
    [
        pytest.param(GLUCOSE, "kg", {"value": 90.0}, "UNIT_NOT_ALLOWED", "unit", id="glucose-kg"),
        pytest.param(WEIGHT, "stone", {"value": 11.0}, "UNIT_NOT_ALLOWED", "unit", id="stone"),
        pytest.param(PRESSURE, "kPa", {"systolic": 16}, "UNIT_NOT_ALLOWED", "unit", id="kpa"),
        pytest.param(GLUCOSE, "mg/dL", {}, "VALUE_REQUIRED", "value", id="no-value"),
        pytest.param(
            GLUCOSE, "mg/dL", {"value": 9.9}, "IMPLAUSIBLE_VALUE", "value", id="glucose-low"
        ),
        pytest.param(
            GLUCOSE, "mmol/L", {"value": 99.0}, "IMPLAUSIBLE_VALUE", "value", id="mmol-as-mg"
        ),
        pytest.param(
            GLUCOSE, "mg/dL", {"value": float("nan")}, "IMPLAUSIBLE_VALUE", "value", id="nan"
        ),
        pytest.param(WEIGHT, "lb", {"value": 1500.0}, "IMPLAUSIBLE_VALUE", "value", id="heavy"),
        pytest.param(WEIGHT, "kg", {"value": 0.0}, "IMPLAUSIBLE_VALUE", "value", id="zero"),
        pytest.param(
            WEIGHT,
            "kg",
            {"value": 70.0, "systolic": 120},
            "VALUE_NOT_ALLOWED",
            "systolic",
            id="weight-with-pressure",
        ),
        pytest.param(
            PRESSURE,
            "mmHg",
            {"value": 120.0, "systolic": 120, "diastolic": 80},
            "VALUE_NOT_ALLOWED",
            "value",
            id="bp-with-value",
        ),
        pytest.param(
            PRESSURE, "mmHg", {"diastolic": 80}, "VALUE_REQUIRED", "systolic", id="no-systolic"
        ),
        pytest.param(
            PRESSURE, "mmHg", {"systolic": 120}, "VALUE_REQUIRED", "diastolic", id="no-diastolic"
        ),
        pytest.param(
            PRESSURE,
            "mmHg",
            {"systolic": 301, "diastolic": 80},
            "IMPLAUSIBLE_VALUE",
            "systolic",
            id="systolic-high",
        ),
        pytest.param(
            PRESSURE,
            "mmHg",
            {"systolic": 120, "diastolic": 19},
            "IMPLAUSIBLE_VALUE",
            "diastolic",
            id="diastolic-low",
        ),
        pytest.param(
            PRESSURE,
            "mmHg",
            {"systolic": 80, "diastolic": 120},
            "IMPLAUSIBLE_VALUE",
            "diastolic",
            id="swapped",
        ),
        pytest.param(
            GLUCOSE,
            "mg/dL",
            {"value": 98.0, "taken_at": NOW + timedelta(minutes=6)},
            "TAKEN_IN_FUTURE",
            "takenAt",
            id="future",
        ),
        pytest.param(
            GLUCOSE,
            "mg/dL",
            # Naive on purpose: the case under test is a time without a zone.
            {"value": 98.0, "taken_at": datetime(2026, 11, 22, 9, 0)},  # noqa: DTZ001
            "TIME_ZONE_REQUIRED",
            "takenAt",
            id="naive-time",
        ),
    ],
)
def test_refused_readings(
    kind: ReadingKind, unit: str, values: dict[str, Any], code: str, field: str
) -> None:
    with pytest.raises(DomainError) as refused:
        reading(kind, unit, **values)
    assert (refused.value.code, refused.value.field) == (code, field)


ADDRESS = PostalAddress("1 Main St", None, "Springfield", "IL", "62701")


def release(**overrides: Any) -> Any:
    values: dict[str, Any] = {
        "recipient_kind": RecipientKind.PROVIDER,
        "recipient_name": "Dr. Ortega",
        "email": None,
        "fax": None,
        "address": None,
        "areas": None,
        "from_date": None,
        "to_date": None,
        "note": None,
        "today": date(2026, 11, 22),
    } | overrides
    return check_release_request(**values)


def test_a_release_request_is_normalized() -> None:
    request = release(
        fax="(617) 555-0100",
        areas=[RecordArea.IMMUNIZATIONS, RecordArea.RESULTS, RecordArea.RESULTS],
        from_date=date(2025, 1, 1),
        to_date=date(2026, 12, 31),
        note="  For my new cardiologist. ",
    )
    assert request.fax == "6175550100"
    assert request.areas == (RecordArea.RESULTS, RecordArea.IMMUNIZATIONS)
    assert request.note == "For my new cardiologist."
    to_self = release(recipient_kind=RecipientKind.SELF, recipient_name=" ", address=ADDRESS)
    assert (to_self.recipient_name, to_self.address, to_self.areas) == (None, ADDRESS, ())


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        pytest.param(
            {"recipient_name": "  ", "email": "a@b.org"},
            "RECIPIENT_NAME_REQUIRED",
            "recipientName",
            id="provider-needs-a-name",
        ),
        pytest.param({}, "DELIVERY_REQUIRED", "recipientEmail", id="no-channel"),
        pytest.param(
            {"email": "a@b.org", "fax": "6175550100"},
            "DELIVERY_REQUIRED",
            "recipientEmail",
            id="two-channels",
        ),
        pytest.param({"email": "not-an-email"}, "INVALID_EMAIL", "recipientEmail", id="email"),
        pytest.param({"fax": "555-0100"}, "INVALID_FAX", "recipientFax", id="short-fax"),
        pytest.param({"fax": "617-555-CALL"}, "INVALID_FAX", "recipientFax", id="letters"),
        pytest.param(
            {"address": PostalAddress("1 Main St", None, " ", "IL", "62701")},
            "INVALID_ADDRESS",
            "recipientAddress",
            id="no-city",
        ),
        pytest.param(
            {"email": "a@b.org", "from_date": date(2026, 11, 23)},
            "INVALID_DATE_RANGE",
            "fromDate",
            id="future-start",
        ),
        pytest.param(
            {"email": "a@b.org", "from_date": date(2026, 5, 1), "to_date": date(2026, 4, 1)},
            "INVALID_DATE_RANGE",
            "toDate",
            id="end-before-start",
        ),
        pytest.param({"email": "a@b.org", "note": "x" * 1001}, "TOO_LONG", "note", id="long-note"),
        pytest.param(
            {"email": "a@b.org", "recipient_name": "x" * 201},
            "TOO_LONG",
            "recipientName",
            id="long-name",
        ),
    ],
)
def test_refused_release_requests(overrides: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(DomainError) as refused:
        release(**overrides)
    assert (refused.value.code, refused.value.field) == (code, field)
