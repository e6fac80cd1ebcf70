"""requestRenewal (distinct from requestRefill), the refill refusals that point to it, and the
prescriber's answer through the EHR feed, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from persistence import models as m
from schema.base import to_global_id
from tests.conftest import ALEX, JORDAN, NOW, SUSAN, Database, Portal, _portal, errors_of

TOKEN = "test-integration-token-0123456789abcdef"
ALEX_PATIENT, MIA, LEO = "pat-0000001", "pat-0000003", "pat-0000004"

REFILL = """
mutation Refill($input: RequestRefillInput!) {
  requestRefill(input: $input) { thread { id } errors { code message field } }
}
"""
RENEW = """
mutation Renew($input: RequestRenewalInput!) {
  requestRenewal(input: $input) {
    renewal { id status medicationId pharmacy note prescriber { id } }
    medication { id canRequestRefill canRequestRenewal }
    errors { code message field }
  }
}
"""
LIST = """
query List($id: ID!) {
  patient(id: $id) {
    prescriptionRenewals { id status denialReason medicationId }
    medications { id refillsRemaining endDate canRequestRefill canRequestRenewal }
  }
}
"""
NOTIFICATIONS = "query { viewer { notifications { nodes { kind title } } } }"


@pytest.fixture
async def feed(fresh_db: Database) -> AsyncIterator[Portal]:
    async for p in _portal(fresh_db, integration_token=TOKEN):
        yield p


def gid(type_name: str, internal: str) -> str:
    return str(to_global_id(type_name, internal))


async def medication(portal: Portal, patient_id: str, **values: Any) -> str:
    """An active medication of the patient with a prescriber (added if the data has none),
    set to `values`."""
    async with portal.services.session() as session:
        med_id = await session.scalar(
            select(m.Medication.id)
            .where(m.Medication.patient_id == patient_id, m.Medication.status == "active")
            .where(m.Medication.prescriber_id.is_not(None))
            .order_by(m.Medication.id)
            .limit(1)
        )
        if med_id is None:  # children have none in the demo data: give them one
            med_id = m.new_id("med")
            session.add(
                m.Medication(
                    id=med_id,
                    patient_id=patient_id,
                    name="Amoxicillin",
                    dose="250 mg",
                    status="active",
                    prescriber_id="prv-00001",
                    refills_remaining=1,
                    pharmacy="CVS",
                )
            )
            await session.flush()
        await session.execute(update(m.Medication).where(m.Medication.id == med_id).values(values))
        await session.commit()
    return str(med_id)


async def call(portal: Portal, doc: str, user: str, **input: Any) -> dict[str, Any]:
    result = await portal.gql(doc, {"input": input}, as_user=user)
    assert "errors" not in result, result
    payload: dict[str, Any] = next(iter(result["data"].values()))
    return payload


async def renewals(portal: Portal) -> int:
    async with portal.services.session() as session:
        # made by the test: the demo data's were made before its `now`
        stmt = select(func.count()).where(m.PrescriptionRenewal.created_at >= NOW)
        return int(await session.scalar(stmt) or 0)


async def test_a_refill_that_cannot_be_filled_says_to_renew(fresh_portal: Portal) -> None:
    used_up = await medication(fresh_portal, ALEX_PATIENT, refills_remaining=0, end_date=None)
    for values, code in (
        ({"refills_remaining": 0, "end_date": None}, "NO_REFILLS_REMAINING"),
        ({"refills_remaining": 3, "end_date": date(2026, 11, 1)}, "PRESCRIPTION_EXPIRED"),
    ):
        await medication(fresh_portal, ALEX_PATIENT, **values)
        payload = await call(
            fresh_portal, REFILL, ALEX, medicationId=gid("Medication", used_up), pharmacy="CVS"
        )
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, "medicationId")]
        assert "requestRenewal" in payload["errors"][0]["message"]
    listed = await fresh_portal.gql(LIST, {"id": gid("Patient", ALEX_PATIENT)}, as_user=ALEX)
    [med] = [
        x for x in listed["data"]["patient"]["medications"] if x["id"] == gid("Medication", used_up)
    ]
    assert (med["canRequestRefill"], med["canRequestRenewal"]) == (False, True)


async def test_a_renewal_goes_to_the_prescriber_once(fresh_portal: Portal) -> None:
    med = await medication(fresh_portal, ALEX_PATIENT, refills_remaining=2, end_date=None)
    med_gid = gid("Medication", med)
    payload = await call(fresh_portal, RENEW, ALEX, medicationId=med_gid)
    assert [e["code"] for e in payload["errors"]] == ["RENEWAL_NOT_NEEDED"]
    await medication(fresh_portal, ALEX_PATIENT, refills_remaining=0)
    payload = await call(fresh_portal, RENEW, ALEX, medicationId=med_gid, note=" Out Friday ")
    assert payload["errors"] == []
    renewal = payload["renewal"]
    assert (renewal["status"], renewal["medicationId"], renewal["note"]) == (
        "REQUESTED",
        med_gid,
        "Out Friday",
    )
    assert renewal["prescriber"]["id"].startswith(gid("Provider", "")[:4])
    again = await call(fresh_portal, RENEW, ALEX, medicationId=med_gid)
    assert [e["code"] for e in again["errors"]] == ["ALREADY_REQUESTED"]
    too_long = await call(fresh_portal, RENEW, ALEX, medicationId=med_gid, note="x" * 1001)
    assert [e["code"] for e in too_long["errors"]] in (["ALREADY_REQUESTED"], ["NOTE_TOO_LONG"])
    assert await renewals(fresh_portal) == 1


async def test_who_may_ask_for_a_renewal(fresh_portal: Portal) -> None:
    mia_med = await medication(fresh_portal, MIA, refills_remaining=0)
    leo_med = await medication(fresh_portal, LEO, refills_remaining=0)
    payload = await call(fresh_portal, RENEW, JORDAN, medicationId=gid("Medication", mia_med))
    assert payload["errors"] == []  # a parent of a 7-year-old
    for user, med_id, reason in (
        (ALEX, leo_med, "ADOLESCENT_CONFIDENTIAL"),  # medications are confidential at 14
        (SUSAN, mia_med, "NOT_A_PATIENT"),
        (ALEX, "med-nope", "NOT_A_PATIENT"),
    ):
        result = await fresh_portal.gql(
            RENEW, {"input": {"medicationId": gid("Medication", med_id)}}, as_user=user
        )
        assert errors_of(result) == [("FORBIDDEN", reason)]
    bad = await call(fresh_portal, RENEW, ALEX, medicationId="%%%")
    assert [e["code"] for e in bad["errors"]] == ["INVALID_ID"]
    assert await renewals(fresh_portal) == 1


NEW = m.PrescriptionRenewal.created_at >= NOW  # the test's renewal, not the demo data's


async def answer(portal: Portal, event_id: str, **data: Any) -> int:
    body = {
        "id": event_id,
        "type": "PRESCRIPTION_RENEWAL_ANSWERED",
        "occurredAt": NOW.isoformat(),
        "data": data,
    }
    response = await portal.client.post(
        "/integration/events", json=body, headers={"authorization": f"Bearer {TOKEN}"}
    )
    return response.status_code


async def test_the_prescribers_answer_renews_the_medication(feed: Portal) -> None:
    med = await medication(feed, ALEX_PATIENT, refills_remaining=0)
    first = await call(feed, RENEW, ALEX, medicationId=gid("Medication", med))
    async with feed.services.session() as session:
        renewal_id = str(await session.scalar(select(m.PrescriptionRenewal.id).where(NEW)))
    assert first["errors"] == []
    assert await answer(feed, "ehr-rnw-bad", renewalId=renewal_id, status="APPROVED") == 422
    ends = (NOW + timedelta(days=365)).date().isoformat()
    assert (
        await answer(
            feed, "ehr-rnw-1", renewalId=renewal_id, status="APPROVED", refills=5, endDate=ends
        )
        == 200
    )
    listed = await feed.gql(LIST, {"id": gid("Patient", ALEX_PATIENT)}, as_user=ALEX)
    patient = listed["data"]["patient"]
    assert patient["prescriptionRenewals"][0]["status"] == "APPROVED"
    [renewed] = [x for x in patient["medications"] if x["id"] == gid("Medication", med)]
    assert (renewed["refillsRemaining"], renewed["endDate"]) == (5, ends)
    assert (renewed["canRequestRefill"], renewed["canRequestRenewal"]) == (True, False)
    notes = (await feed.gql(NOTIFICATIONS, as_user=ALEX))["data"]["viewer"]["notifications"]
    assert notes["nodes"][0] == {
        "kind": "PRESCRIPTION_RENEWAL_ANSWERED",
        "title": "Prescription renewed",
    }
    # Answered once: a second answer is refused.
    assert (
        await answer(feed, "ehr-rnw-2", renewalId=renewal_id, status="DENIED", denialReason="x")
        == 422
    )


async def test_a_denied_renewal_says_why(feed: Portal) -> None:
    med = await medication(feed, ALEX_PATIENT, refills_remaining=0)
    await call(feed, RENEW, ALEX, medicationId=gid("Medication", med))
    async with feed.services.session() as session:
        renewal_id = str(await session.scalar(select(m.PrescriptionRenewal.id).where(NEW)))
    reason = "Please book a follow-up visit first."
    assert (
        await answer(feed, "ehr-rnw-3", renewalId=renewal_id, status="DENIED", denialReason=reason)
        == 200
    )
    listed = await feed.gql(LIST, {"id": gid("Patient", ALEX_PATIENT)}, as_user=ALEX)
    patient = listed["data"]["patient"]
    assert (
        patient["prescriptionRenewals"][0]["status"],
        patient["prescriptionRenewals"][0]["denialReason"],
    ) == ("DENIED", reason)
    [same] = [x for x in patient["medications"] if x["id"] == gid("Medication", med)]
    assert same["refillsRemaining"] == 0
