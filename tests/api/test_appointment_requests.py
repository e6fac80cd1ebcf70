"""requestAppointment, cancelAppointmentRequest, Patient.appointmentRequests and the clinic's
answer through the EHR feed (APPOINTMENT_REQUEST_ANSWERED), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from persistence import models as m
from schema.base import to_global_id
from tests.conftest import (
    ACCOUNT_IDS,
    ALEX,
    DANIEL,
    JORDAN,
    NOW,
    SUSAN,
    Database,
    Portal,
    _portal,
    errors_of,
    patient_gid,
)

TOKEN = "test-integration-token-0123456789abcdef"
ALEX_PATIENT, MIA, LEO, MARGARET = "pat-0000001", "pat-0000003", "pat-0000004", "pat-0000005"

REQUEST = """
mutation Request($input: RequestAppointmentInput!) {
  requestAppointment(input: $input) {
    request {
      id visitType reason preferredDays preferredTimesOfDay contactPreference status canCancel
      preferredProvider { id } preferredDepartment { id } appointment { id }
    }
    errors { code message field }
  }
}
"""
CANCEL = """
mutation Cancel($input: CancelAppointmentRequestInput!) {
  cancelAppointmentRequest(input: $input) {
    request { id status canCancel } errors { code message field }
  }
}
"""
LIST = """
query List($id: ID!) {
  patient(id: $id) {
    appointmentRequests {
      id visitType status declineReason statusChangedAt
      appointment { id visitType startsAt status provider { id } }
    }
  }
}
"""
NOTIFICATIONS = "query { viewer { notifications { nodes { kind title body patient { id } } } } }"


@pytest.fixture
async def feed(fresh_db: Database) -> AsyncIterator[Portal]:
    async for p in _portal(fresh_db, integration_token=TOKEN):
        yield p


def gid(type_name: str, internal: str) -> str:
    return str(to_global_id(type_name, internal))


async def request(portal: Portal, user: str, patient: str, **fields: Any) -> dict[str, Any]:
    values = {"patientId": patient_gid(patient), "visitType": "New Patient", "reason": "Rash"}
    result = await portal.gql(REQUEST, {"input": values | fields}, as_user=user)
    return result


def payload(result: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in result, result
    data: dict[str, Any] = next(iter(result["data"].values()))
    return data


async def stored(portal: Portal) -> int:
    """Requests made by the test (the demo data's were made before its `now`)."""
    async with portal.services.session() as session:
        count = await session.scalar(
            select(func.count()).where(m.AppointmentRequest.created_at >= NOW)
        )
    return int(count or 0)


async def answer(portal: Portal, event_id: str, **data: Any) -> httpx.Response:
    body = {"id": event_id, "type": "APPOINTMENT_REQUEST_ANSWERED", "occurredAt": NOW.isoformat()}
    headers = {"authorization": f"Bearer {TOKEN}"}
    return await portal.client.post(
        "/integration/events", json=body | {"data": data}, headers=headers
    )


def booked(appointment_id: str, days: int = 10) -> dict[str, Any]:
    return {
        "appointmentId": appointment_id,
        "startsAt": (NOW + timedelta(days=days)).isoformat(),
        "durationMinutes": 40,
        "providerId": "prv-00002",
        "departmentId": "dep-001",
    }


# -- asking ----------------------------------------------------------------------------------
async def test_a_patient_requests_a_visit_and_sees_it_listed(fresh_portal: Portal) -> None:
    made = payload(
        await request(
            fresh_portal,
            ALEX,
            ALEX_PATIENT,
            reason="  Itchy   rash on both arms ",
            preferredProviderId=gid("Provider", "prv-00001"),
            preferredDepartmentId=gid("Department", "dep-001"),
            preferredDays=["FRIDAY", "MONDAY", "MONDAY"],
            preferredTimesOfDay=["MORNING"],
            contactPreference="PHONE",
        )
    )
    assert made["errors"] == []
    req = made["request"]
    assert (req["visitType"], req["reason"], req["status"], req["canCancel"]) == (
        "New Patient",
        "Itchy rash on both arms",
        "REQUESTED",
        True,
    )
    assert (req["preferredDays"], req["preferredTimesOfDay"]) == (["MONDAY", "FRIDAY"], ["MORNING"])
    assert req["contactPreference"] == "PHONE"
    assert req["preferredProvider"] == {"id": gid("Provider", "prv-00001")}
    assert req["preferredDepartment"] == {"id": gid("Department", "dep-001")}
    assert req["appointment"] is None
    listed = await fresh_portal.gql(LIST, {"id": patient_gid(ALEX_PATIENT)}, as_user=ALEX)
    only, *demo = listed["data"]["patient"]["appointmentRequests"]  # newest first
    assert (only["id"], only["status"]) == (req["id"], "REQUESTED")
    assert req["id"] not in {r["id"] for r in demo}
    # Jordan (his grant for Alex was revoked) neither sees nor reaches it.
    hidden = await fresh_portal.gql(LIST, {"id": patient_gid(ALEX_PATIENT)}, as_user=JORDAN)
    assert errors_of(hidden) == [("FORBIDDEN", "GRANT_NOT_ACTIVE")]


async def test_refused_requests_say_why_and_store_nothing(fresh_portal: Portal) -> None:
    assert payload(await request(fresh_portal, ALEX, ALEX_PATIENT))["errors"] == []
    cases = [
        (
            {"visitType": " ", "reason": ""},
            [("INVALID_INPUT", "visitType"), ("INVALID_INPUT", "reason")],
        ),
        ({"reason": "x" * 501, "visitType": "Therapy"}, [("INVALID_INPUT", "reason")]),
        ({}, [("ALREADY_REQUESTED", "visitType")]),
        (
            {"visitType": "Therapy", "preferredProviderId": gid("Provider", "prv-nobody")},
            [("UNKNOWN_PROVIDER", "preferredProviderId")],
        ),
        (
            {"visitType": "Therapy", "preferredDepartmentId": "%%%"},
            [("INVALID_ID", "preferredDepartmentId")],
        ),
    ]
    for fields, expected in cases:
        got = payload(await request(fresh_portal, ALEX, ALEX_PATIENT, **fields))
        assert [(e["code"], e["field"]) for e in got["errors"]] == expected, fields
        assert got["request"] is None
    assert await stored(fresh_portal) == 1


async def test_proxies_with_appointments_may_request_and_others_may_not(
    fresh_portal: Portal,
) -> None:
    # A parent keeps APPOINTMENTS for an adolescent; a caregiver has it for Margaret.
    for user, patient in ((ALEX, MIA), (JORDAN, LEO), (SUSAN, MARGARET)):
        made = payload(await request(fresh_portal, user, patient))
        assert made["errors"] == [], (user, patient)
    # Daniel's grants for Margaret are one expired and one pending (the newer one says why).
    for user, patient, reasons in (
        (DANIEL, MARGARET, {"GRANT_NOT_ACTIVE"}),
        (SUSAN, ALEX_PATIENT, {"NOT_A_PATIENT"}),
    ):
        refused = await request(fresh_portal, user, patient, visitType="Therapy")
        [(code, reason)] = errors_of(refused)
        assert code == "FORBIDDEN"
        assert reason in reasons
    assert await stored(fresh_portal) == 3


# -- withdrawing -----------------------------------------------------------------------------
async def test_a_pending_request_is_cancelled_once_and_only_by_who_may(
    fresh_portal: Portal,
) -> None:
    req = payload(await request(fresh_portal, ALEX, MIA))["request"]
    # Susan has no grant for Mia: refused like an unknown id.
    for user, request_id in ((SUSAN, req["id"]), (ALEX, gid("AppointmentRequest", "apr-nope"))):
        denied = await fresh_portal.gql(CANCEL, {"input": {"requestId": request_id}}, as_user=user)
        assert errors_of(denied) == [("FORBIDDEN", "NOT_A_PATIENT")]
    done = payload(
        await fresh_portal.gql(CANCEL, {"input": {"requestId": req["id"]}}, as_user=JORDAN)
    )
    assert done["errors"] == []
    assert (done["request"]["status"], done["request"]["canCancel"]) == ("CANCELLED", False)
    again = payload(
        await fresh_portal.gql(CANCEL, {"input": {"requestId": req["id"]}}, as_user=ALEX)
    )
    assert [e["code"] for e in again["errors"]] == ["NOT_PENDING"]
    # Cancelled, the same visit type may be asked for again.
    assert payload(await request(fresh_portal, ALEX, MIA))["errors"] == []


# -- the clinic's answer ---------------------------------------------------------------------
async def test_the_clinic_schedules_a_request_and_the_family_is_told(feed: Portal) -> None:
    req = payload(await request(feed, ALEX, MIA))["request"]
    request_id = req["id"].split(":")[-1]
    internal = (await _request_ids(feed))[0]
    response = await answer(
        feed,
        "ehr-apr-1",
        requestId=internal,
        patientId=MIA,
        status="SCHEDULED",
        appointment=booked("apt-ehr-apr-1"),
    )
    assert response.status_code == 200, response.text
    assert request_id
    listed = await feed.gql(LIST, {"id": patient_gid(MIA)}, as_user=JORDAN)
    [answered] = listed["data"]["patient"]["appointmentRequests"]
    assert answered["status"] == "SCHEDULED"
    assert answered["appointment"] == {
        "id": gid("Appointment", "apt-ehr-apr-1"),
        "visitType": "New Patient",
        "startsAt": (NOW + timedelta(days=10)).isoformat(),
        "status": "SCHEDULED",
        "provider": {"id": gid("Provider", "prv-00002")},
    }
    for user in (ALEX, JORDAN):  # both parents follow Mia's appointments
        notes = (await feed.gql(NOTIFICATIONS, as_user=user))["data"]["viewer"]["notifications"]
        first = notes["nodes"][0]
        assert (first["kind"], first["patient"]) == (
            "APPOINTMENT_REQUEST_ANSWERED",
            {"id": patient_gid(MIA)},
        )
        assert first["title"] == "Appointment request scheduled"
    # A second answer to the same request, or an answer to a cancelled one, is refused.
    again = await answer(
        feed, "ehr-apr-2", requestId=internal, status="DECLINED", declineReason="x"
    )
    assert again.status_code == 422
    assert "is not open" in again.text


async def test_the_clinic_declines_with_a_reason(feed: Portal) -> None:
    payload(await request(feed, ALEX, ALEX_PATIENT, visitType="Therapy Session"))
    [internal] = await _request_ids(feed)
    reason = "Dr. Lee is not taking new therapy patients; we have sent you a referral list."
    response = await answer(
        feed, "ehr-apr-3", requestId=internal, status="DECLINED", declineReason=reason
    )
    assert response.status_code == 200, response.text
    listed = await feed.gql(LIST, {"id": patient_gid(ALEX_PATIENT)}, as_user=ALEX)
    declined = listed["data"]["patient"]["appointmentRequests"][0]  # newest first
    assert (declined["status"], declined["declineReason"], declined["appointment"]) == (
        "DECLINED",
        reason,
        None,
    )


async def test_bad_answers_are_refused_and_change_nothing(feed: Portal) -> None:
    payload(await request(feed, ALEX, MIA))
    [internal] = await _request_ids(feed)
    async with feed.services.session() as session:
        before = await session.scalar(select(func.count()).select_from(m.Appointment))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"requestId": "apr-nope", "status": "DECLINED", "declineReason": "x"}, "data.requestId"),
        ({"requestId": internal, "status": "SCHEDULED"}, "data.appointment"),
        ({"requestId": internal, "status": "DECLINED"}, "data.declineReason"),
        (
            {"requestId": internal, "patientId": LEO, "status": "DECLINED", "declineReason": "x"},
            "data.patientId",
        ),
        (
            {
                "requestId": internal,
                "status": "SCHEDULED",
                "appointment": booked("apt-x") | {"providerId": "prv-nobody"},
            },
            "data.appointment.providerId",
        ),
    ]
    for n, (data, field) in enumerate(cases):
        response = await answer(feed, f"ehr-bad-{n}", **data)
        assert response.status_code == 422, (data, response.text)
        assert field in response.text
    async with feed.services.session() as session:
        assert await session.scalar(select(func.count()).select_from(m.Appointment)) == before
        row = await session.get(m.AppointmentRequest, internal)
    assert row is not None
    assert row.status == "requested"
    assert ACCOUNT_IDS[ALEX] == row.requested_by_account_id


async def _request_ids(portal: Portal) -> list[str]:
    async with portal.services.session() as session:
        t = m.AppointmentRequest
        stmt = select(t.id).where(t.created_at >= NOW).order_by(t.created_at, t.id)
        return list((await session.scalars(stmt)).all())
