"""The showcase families of the demo data show health maintenance, appointment requests,
prescription renewals, coverages and pronouns, read through the API after a seed by the
people who would look at them (issue 15 and 16: demo data)."""

from __future__ import annotations

from typing import Any

from tests.conftest import ALEX, GRACE, JORDAN, SUSAN, Portal, patient_gid

ALEX_PT, JORDAN_PT, MARGARET, ADA = "pat-0000001", "pat-0000002", "pat-0000005", "pat-0000007"

CHART = """query($id: ID!) { patient(id: $id) {
  name { pronouns }
  healthMaintenance { topicId status dueOn canSelfSchedule }
  appointmentRequests { visitType status declineReason canCancel appointment { id } }
  prescriptionRenewals { status medicationId denialReason prescriber { id } }
  coverages { priority payer plan memberId subscriberName subscriberRelation
              copays { service } deductible { limit { amountCents } } }
} }"""


async def chart(portal: Portal, user: str, patient_id: str) -> dict[str, Any]:
    result = await portal.gql(CHART, {"id": patient_gid(patient_id)}, as_user=user)
    assert "errors" not in result, result
    patient: dict[str, Any] = result["data"]["patient"]
    return patient


def statuses(items: list[dict[str, Any]]) -> set[str]:
    return {item["status"] for item in items}


async def test_alex_sees_her_reminders_requests_renewal_coverage_and_pronouns(
    portal: Portal,
) -> None:
    alex = await chart(portal, ALEX, ALEX_PT)
    assert alex["name"]["pronouns"] == "she/her"
    topics = alex["healthMaintenance"]
    assert "OVERDUE" in statuses(topics)  # something to act on today
    assert "NOT_DUE" in statuses(topics)  # and one the daily job announces within ten days
    assert any(t["canSelfSchedule"] for t in topics)
    requests = {r["status"]: r for r in alex["appointmentRequests"]}
    assert set(requests) == {"REQUESTED", "DECLINED"}
    assert requests["REQUESTED"]["canCancel"] is True
    assert requests["DECLINED"]["declineReason"]
    assert statuses(alex["prescriptionRenewals"]) == {"APPROVED"}
    [coverage] = alex["coverages"]
    assert (coverage["priority"], coverage["subscriberRelation"]) == (1, "SELF")
    assert coverage["subscriberName"] == "Alexandra Rivera"


async def test_jordan_sees_the_request_the_clinic_scheduled(portal: Portal) -> None:
    jordan = await chart(portal, JORDAN, JORDAN_PT)
    assert jordan["name"]["pronouns"] == "he/him"
    [scheduled] = jordan["appointmentRequests"]
    assert scheduled["status"] == "SCHEDULED"
    assert scheduled["appointment"]["id"]  # the visit it was booked as, readable
    assert jordan["healthMaintenance"]
    assert jordan["coverages"]


async def test_a_caregiver_sees_her_mothers_open_renewal_and_medicare(portal: Portal) -> None:
    margaret = await chart(portal, SUSAN, MARGARET)
    assert margaret["name"]["pronouns"] is None  # no account of her own to set them
    assert {"OVERDUE", "NOT_DUE"} <= statuses(margaret["healthMaintenance"])
    assert statuses(margaret["appointmentRequests"]) == {"REQUESTED"}
    assert "REQUESTED" in statuses(margaret["prescriptionRenewals"])
    payers = [(c["priority"], c["payer"]) for c in margaret["coverages"]]
    assert payers[0] == (1, "Medicare")
    assert len(payers) == 2  # and a supplement


async def test_a_guardian_sees_the_childs(portal: Portal) -> None:
    ada = await chart(portal, GRACE, ADA)
    assert {t["topicId"] for t in ada["healthMaintenance"]} >= {"influenza", "well-child"}
    assert statuses(ada["appointmentRequests"]) == {"REQUESTED"}
    assert ada["prescriptionRenewals"]
    assert ada["coverages"]
