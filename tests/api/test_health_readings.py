"""recordHealthReading and Patient.healthReadings, through real HTTP on every backend.

Access: the READINGS area (scope HEALTH_SUMMARY): self and proxies whose grant allows it
record and read; a parent of an adolescent does not (ADOLESCENT_CONFIDENTIAL).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from persistence import models as m
from schema.base import from_global_id
from tests.conftest import (
    ACCOUNT_IDS,
    ALEX,
    DANIEL,
    GRACE,
    JORDAN,
    LEO_ACCOUNT,
    NOW,
    SUSAN,
    Portal,
    errors_of,
    patient_gid,
)

ALEX_PATIENT, MIA, LEO, MARGARET, ADA = (
    "pat-0000001",
    "pat-0000003",
    "pat-0000004",
    "pat-0000005",
    "pat-0000007",
)

RECORD = """
mutation Record($input: RecordHealthReadingInput!) {
  recordHealthReading(input: $input) {
    reading { id kind value systolic diastolic unit takenAt recordedAt }
    errors { code message field }
  }
}
"""

SERIES = """
query Series($id: ID!, $kind: HealthReadingKind!, $first: Int, $after: String,
             $since: DateTime) {
  patient(id: $id) {
    healthReadings(kind: $kind, first: $first, after: $after, since: $since) {
      pageInfo { hasNextPage endCursor }
      nodes { id kind value systolic diastolic unit takenAt }
    }
  }
}
"""

NODE = """
query Node($id: ID!) { node(id: $id) { ... on HealthReading { id kind value unit } } }
"""


def glucose(patient_id: str, value: float, hours_ago: float, unit: str = "mg/dL") -> dict[str, Any]:
    taken_at = (NOW - timedelta(hours=hours_ago)).isoformat()
    return {
        "patientId": patient_gid(patient_id),
        "kind": "BLOOD_GLUCOSE",
        "value": value,
        "unit": unit,
        "takenAt": taken_at,
    }


async def record(portal: Portal, user: str, values: dict[str, Any]) -> dict[str, Any]:
    return await portal.gql(RECORD, {"input": values}, as_user=user)


async def stored(portal: Portal, patient_id: str) -> list[m.HealthReading]:
    async with portal.services.session() as session:
        stmt = select(m.HealthReading).where(m.HealthReading.patient_id == patient_id)
        return list((await session.scalars(stmt)).all())


async def series(
    portal: Portal, user: str, patient_id: str, kind: str, **variables: Any
) -> dict[str, Any]:
    return await portal.gql(
        SERIES, {"id": patient_gid(patient_id), "kind": kind, **variables}, as_user=user
    )


async def test_a_patient_records_readings_and_reads_each_series(fresh_portal: Portal) -> None:
    portal = fresh_portal
    for value, hours_ago in ((101.0, 30), (5.6, 2), (143.0, 12)):
        unit = "mmol/L" if value < 10 else "mg/dL"
        result = await record(portal, ALEX, glucose(ALEX_PATIENT, value, hours_ago, unit))
        assert result["data"]["recordHealthReading"]["errors"] == [], result
    pressure = {
        "patientId": patient_gid(ALEX_PATIENT),
        "kind": "BLOOD_PRESSURE",
        "systolic": 128,
        "diastolic": 84,
        "unit": "mmhg",
        "takenAt": (NOW - timedelta(minutes=5)).isoformat(),
    }
    result = await record(portal, ALEX, pressure)
    reading = result["data"]["recordHealthReading"]["reading"]
    assert reading["kind"] == "BLOOD_PRESSURE"
    assert (reading["systolic"], reading["diastolic"], reading["unit"]) == (128, 84, "mmHg")
    assert reading["value"] is None
    assert reading["recordedAt"] == NOW.isoformat()

    page = (await series(portal, ALEX, ALEX_PATIENT, "BLOOD_GLUCOSE", first=2))["data"]
    readings = page["patient"]["healthReadings"]
    assert [(r["value"], r["unit"]) for r in readings["nodes"]] == [
        (5.6, "mmol/L"),
        (143.0, "mg/dL"),
    ]
    assert readings["pageInfo"]["hasNextPage"] is True
    after = readings["pageInfo"]["endCursor"]
    rest = (await series(portal, ALEX, ALEX_PATIENT, "BLOOD_GLUCOSE", after=after))["data"]
    assert [r["value"] for r in rest["patient"]["healthReadings"]["nodes"]] == [101.0]
    since = (NOW - timedelta(hours=24)).isoformat()
    recent = (await series(portal, ALEX, ALEX_PATIENT, "BLOOD_GLUCOSE", since=since))["data"]
    assert [r["value"] for r in recent["patient"]["healthReadings"]["nodes"]] == [5.6, 143.0]
    pressures = (await series(portal, ALEX, ALEX_PATIENT, "BLOOD_PRESSURE"))["data"]
    assert [r["systolic"] for r in pressures["patient"]["healthReadings"]["nodes"]] == [128]
    naive = await series(portal, ALEX, ALEX_PATIENT, "WEIGHT", since="2026-11-01T00:00:00")
    assert errors_of(naive) == [("BAD_USER_INPUT", None)]
    weights = (await series(portal, ALEX, ALEX_PATIENT, "WEIGHT"))["data"]
    assert weights["patient"]["healthReadings"]["nodes"] == []

    node = await portal.gql(NODE, {"id": reading["id"]}, as_user=ALEX)
    assert node["data"]["node"] == {
        "id": reading["id"],
        "kind": "BLOOD_PRESSURE",
        "value": None,
        "unit": "mmHg",
    }
    denied = await portal.gql(NODE, {"id": reading["id"]}, as_user=SUSAN)
    assert denied["data"]["node"] is None
    assert errors_of(denied) == [("FORBIDDEN", "NOT_A_PATIENT")]


CHART = """
query Chart($id: ID!, $kind: HealthReadingKind!, $unit: String!) {
  patient(id: $id) { healthReadings(kind: $kind) { nodes { value unit valueIn(unit: $unit) } } }
}
"""


async def test_a_series_entered_in_mixed_units_reads_in_one(fresh_portal: Portal) -> None:
    portal = fresh_portal
    for value, unit, hours_ago in ((5.6, "mmol/L", 2), (143.0, "mg/dL", 12)):
        result = await record(portal, ALEX, glucose(ALEX_PATIENT, value, hours_ago, unit))
        assert result["data"]["recordHealthReading"]["errors"] == [], result
    variables = {"id": patient_gid(ALEX_PATIENT), "kind": "BLOOD_GLUCOSE"}
    in_mg = await portal.gql(CHART, {**variables, "unit": "mg/dL"}, as_user=ALEX)
    assert [r["valueIn"] for r in in_mg["data"]["patient"]["healthReadings"]["nodes"]] == [
        101.0,  # 5.6 mmol/L
        143.0,
    ]
    in_mmol = await portal.gql(CHART, {**variables, "unit": "MMOL/L"}, as_user=ALEX)
    assert [r["valueIn"] for r in in_mmol["data"]["patient"]["healthReadings"]["nodes"]] == [
        5.6,
        7.9,  # 143 mg/dL
    ]
    wrong = await portal.gql(CHART, {**variables, "unit": "kg"}, as_user=ALEX)
    assert errors_of(wrong) == [("BAD_USER_INPUT", None)] * 2
    assert "mg/dL or mmol/L" in wrong["errors"][0]["message"]


ALLOWED = [
    (ALEX, MIA),  # parent of a 7-year-old: every scope
    (JORDAN, MIA),
    (SUSAN, MARGARET),  # caregiver with HEALTH_SUMMARY
    (GRACE, ADA),  # legal guardian
    (LEO_ACCOUNT, LEO),  # the adolescent himself
]
REFUSED = [
    (ALEX, LEO, "ADOLESCENT_CONFIDENTIAL"),
    (JORDAN, LEO, "ADOLESCENT_CONFIDENTIAL"),
    (SUSAN, ALEX_PATIENT, "NOT_A_PATIENT"),
    (LEO_ACCOUNT, ALEX_PATIENT, "NOT_A_PATIENT"),
]


async def test_self_and_proxies_with_the_scope_record_and_read(fresh_portal: Portal) -> None:
    portal = fresh_portal
    for n, (user, patient_id) in enumerate(ALLOWED):
        value = 90.0 + n
        result = await record(portal, user, glucose(patient_id, value, 1 + n))
        assert result["data"]["recordHealthReading"]["errors"] == [], (user, result)
        [row] = [r for r in await stored(portal, patient_id) if r.value == value]
        assert row.recorded_by_account_id == ACCOUNT_IDS[user]  # who entered it
        read = await series(portal, user, patient_id, "BLOOD_GLUCOSE")
        nodes = read["data"]["patient"]["healthReadings"]["nodes"]
        assert value in [r["value"] for r in nodes]
    async with portal.services.session() as session:
        stmt = select(func.count()).select_from(m.HealthReading)
        assert await session.scalar(stmt) == len(ALLOWED)


ENTERED_BY = """
query Series($id: ID!) {
  patient(id: $id) {
    healthReadings(kind: BLOOD_GLUCOSE) { nodes { value enteredBy { name isPatient } } }
  }
}
"""


async def test_each_reading_says_who_entered_it(fresh_portal: Portal) -> None:
    """Margaret's caregiver and Margaret herself (an account made for her here) both log."""
    portal = fresh_portal
    assert (await record(portal, SUSAN, glucose(MARGARET, 120.0, 2)))["data"]
    async with portal.services.session() as session:
        susan = await session.get(m.Account, ACCOUNT_IDS[SUSAN])
        assert susan is not None
        session.add(
            m.Account(
                id="acc-margaret",
                username="margaret.chen",
                email="margaret@example.test",
                display_name="Margaret Chen",
                patient_id=MARGARET,
                password_hash=susan.password_hash,
                created_at=NOW,
                failed_sign_ins=0,
            )
        )
        await session.commit()
    margaret = await portal.token_for_account("acc-margaret")
    values = glucose(MARGARET, 130.0, 1)
    assert (await portal.gql(RECORD, {"input": values}, token=margaret))["data"]
    read = await portal.gql(ENTERED_BY, {"id": patient_gid(MARGARET)}, token=margaret)
    nodes = read["data"]["patient"]["healthReadings"]["nodes"]
    assert nodes == [
        {"value": 130.0, "enteredBy": {"name": "Margaret Chen", "isPatient": True}},
        {"value": 120.0, "enteredBy": {"name": "Susan Walsh", "isPatient": False}},
    ]


async def test_others_are_refused_and_nothing_is_stored(fresh_portal: Portal) -> None:
    portal = fresh_portal
    await record(portal, LEO_ACCOUNT, glucose(LEO, 120.0, 3))  # Leo's own, for the reads
    for user, patient_id, reason in REFUSED:
        result = await record(portal, user, glucose(patient_id, 99.0, 1))
        assert result["data"] is None
        assert errors_of(result) == [("FORBIDDEN", reason)], (user, patient_id)
        read = await series(portal, user, patient_id, "BLOOD_GLUCOSE")
        patient = read["data"]["patient"]  # not theirs at all: no patient either
        assert patient is None if reason == "NOT_A_PATIENT" else patient["healthReadings"] is None
        assert errors_of(read) == [("FORBIDDEN", reason)]
    # Daniel's only grant for Margaret has expired (and another is pending).
    result = await record(portal, DANIEL, glucose(MARGARET, 99.0, 1))
    assert [code for code, _ in errors_of(result)] == ["FORBIDDEN"]
    assert await stored(portal, ALEX_PATIENT) == []
    assert await stored(portal, MARGARET) == []
    assert [r.value for r in await stored(portal, LEO)] == [120.0]


NAIVE = "2026-11-22T09:00:00"


async def test_a_refused_reading_is_a_typed_error_and_nothing_is_stored(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    future = (NOW + timedelta(hours=2)).isoformat()
    cases = [
        (glucose(MARGARET, 99.0, 1, unit="kg"), "UNIT_NOT_ALLOWED", "unit"),
        (glucose(MARGARET, 99.0, 1, unit="mmol/L"), "IMPLAUSIBLE_VALUE", "value"),
        (glucose(MARGARET, 99.0, 1) | {"takenAt": future}, "TAKEN_IN_FUTURE", "takenAt"),
        (glucose(MARGARET, 99.0, 1) | {"value": None}, "VALUE_REQUIRED", "value"),
        (
            glucose(MARGARET, 99.0, 1) | {"kind": "BLOOD_PRESSURE", "unit": "mmHg"},
            "VALUE_NOT_ALLOWED",
            "value",
        ),
        (
            glucose(MARGARET, 0, 1)
            | {"kind": "WEIGHT", "unit": "lb", "value": None, "systolic": 120},
            "VALUE_NOT_ALLOWED",
            "systolic",
        ),
    ]
    for values, code, field in cases:
        result = await record(portal, SUSAN, values)
        payload = result["data"]["recordHealthReading"]
        assert payload["reading"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)], values
        assert payload["errors"][0]["message"]
    # A time without a zone is refused by the DateTime scalar itself, as every DateTime input
    # is (tests/test_datetime_input.py): the mutation does not run.
    naive = await record(portal, SUSAN, glucose(MARGARET, 99.0, 1) | {"takenAt": NAIVE})
    assert naive.get("data") is None
    assert [code for code, _ in errors_of(naive)] == ["BAD_USER_INPUT"]
    assert "time zone" in naive["errors"][0]["message"]
    assert await stored(portal, MARGARET) == []


async def test_a_malformed_patient_id_is_bad_input(fresh_portal: Portal) -> None:
    result = await record(fresh_portal, ALEX, glucose(ALEX_PATIENT, 99.0, 1) | {"patientId": "x"})
    assert [code for code, _ in errors_of(result)] == ["BAD_USER_INPUT"]
    assert await stored(fresh_portal, ALEX_PATIENT) == []


async def test_recording_is_audited_as_a_write_by_the_proxy(fresh_portal: Portal) -> None:
    portal = fresh_portal
    result = await record(portal, SUSAN, glucose(MARGARET, 99.0, 1))
    reading_id = from_global_id(result["data"]["recordHealthReading"]["reading"]["id"])[1]
    assert reading_id.startswith("hrd-")
    await portal.services.audit.flush()
    async with portal.services.session() as session:
        stmt = select(m.AuditEvent).where(m.AuditEvent.patient_id == MARGARET)
        rows = list((await session.scalars(stmt)).all())
    assert [(r.account_id, r.acting_as, r.action, r.object_types) for r in rows] == [
        (ACCOUNT_IDS[SUSAN], "caregiver", "write", "HealthReading")
    ]
