"""requestRecordsRelease and Patient.recordsReleaseRequests: self only, recorded REQUESTED."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from persistence import models as m
from schema.base import to_global_id
from tests.conftest import ALEX, GRACE, LEO_ACCOUNT, NOW, SUSAN, Portal, errors_of, patient_gid

ALEX_PATIENT, MIA, LEO, MARGARET, ADA = (
    "pat-0000001",
    "pat-0000003",
    "pat-0000004",
    "pat-0000005",
    "pat-0000007",
)

REQUEST = """
mutation Release($input: RequestRecordsReleaseInput!) {
  requestRecordsRelease(input: $input) {
    request {
      id recipientKind recipientName recipientEmail recipientFax
      recipientAddress { line1 line2 city state postalCode }
      areas fromDate toDate note status requestedAt statusChangedAt
    }
    errors { code message field }
  }
}
"""

LIST = """
query Requests($id: ID!) {
  patient(id: $id) { recordsReleaseRequests { id recipientKind recipientName status } }
}
"""

LIST_BY = """
query Requests($id: ID!) {
  patient(id: $id) { recordsReleaseRequests { id status requestedBy { name isPatient } } }
}
"""

NODE = """
query Node($id: ID!) { node(id: $id) { ... on RecordsReleaseRequest { id status } } }
"""


def to_provider(patient_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "patientId": patient_gid(patient_id),
        "recipientKind": "PROVIDER",
        "recipientName": "Dr. Maria Ortega, Cardiology Associates",
        "recipientFax": "+1 (617) 555-0100",
        "areas": ["RESULTS", "MEDICATIONS", "RESULTS"],
        "fromDate": "2025-01-01",
        "toDate": "2026-11-22",
        "note": "Before my appointment on 12/5.",
    } | overrides


async def release(portal: Portal, user: str, values: dict[str, Any]) -> dict[str, Any]:
    return await portal.gql(REQUEST, {"input": values}, as_user=user)


async def stored(portal: Portal) -> list[m.RecordsReleaseRequest]:
    async with portal.services.session() as session:
        return list((await session.scalars(select(m.RecordsReleaseRequest))).all())


async def test_a_patient_requests_a_release_and_sees_it_listed(fresh_portal: Portal) -> None:
    portal = fresh_portal
    result = await release(portal, ALEX, to_provider(ALEX_PATIENT))
    payload = result["data"]["requestRecordsRelease"]
    assert payload["errors"] == []
    request = payload["request"]
    assert request["recipientKind"] == "PROVIDER"
    assert request["recipientFax"] == "16175550100"
    assert request["recipientEmail"] is None
    assert request["areas"] == ["RESULTS", "MEDICATIONS"]
    assert (request["fromDate"], request["toDate"]) == ("2025-01-01", "2026-11-22")
    assert request["status"] == "REQUESTED"
    assert request["requestedAt"] == request["statusChangedAt"] == NOW.isoformat()

    to_self = {
        "patientId": patient_gid(ALEX_PATIENT),
        "recipientKind": "SELF",
        "recipientAddress": {
            "line1": "12 Elm St",
            "city": "Boston",
            "state": "MA",
            "postalCode": "02110",
        },
    }
    second = (await release(portal, ALEX, to_self))["data"]["requestRecordsRelease"]["request"]
    assert second["recipientAddress"] == {
        "line1": "12 Elm St",
        "line2": None,
        "city": "Boston",
        "state": "MA",
        "postalCode": "02110",
    }
    assert second["areas"] == []  # the whole record

    listed = await portal.gql(LIST, {"id": patient_gid(ALEX_PATIENT)}, as_user=ALEX)
    ids = [r["id"] for r in listed["data"]["patient"]["recordsReleaseRequests"]]
    assert sorted(ids) == sorted([request["id"], second["id"]])
    node = await portal.gql(NODE, {"id": request["id"]}, as_user=ALEX)
    assert node["data"]["node"] == {"id": request["id"], "status": "REQUESTED"}
    [row, _] = sorted(await stored(portal), key=lambda r: r.recipient_kind)
    assert (row.patient_id, row.requested_by_account_id) == (ALEX_PATIENT, "acc-0000001")


async def test_a_proxy_may_not_request_or_list_releases_but_a_childs_parent_may(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    await release(portal, LEO_ACCOUNT, to_provider(LEO))
    # Leo is 14: his release is his own; Margaret is an adult (a caregiver is no
    # representative either).
    for user, patient_id, reason in (
        (ALEX, LEO, "ADOLESCENT_CONFIDENTIAL"),
        (SUSAN, MARGARET, "SELF_ONLY"),
    ):
        result = await release(portal, user, to_provider(patient_id))
        assert result["data"] is None
        assert errors_of(result) == [("FORBIDDEN", reason)]
        listed = await portal.gql(LIST, {"id": patient_gid(patient_id)}, as_user=user)
        assert listed["data"]["patient"]["recordsReleaseRequests"] is None
        assert errors_of(listed) == [("FORBIDDEN", reason)]
    [leos] = await stored(portal)
    assert leos.patient_id == LEO
    # A parent of a 7-year-old and a guardian of a 9-year-old may, and see who asked.
    for user, patient_id in ((ALEX, MIA), (GRACE, ADA)):
        made = await release(portal, user, to_provider(patient_id))
        assert made["data"]["requestRecordsRelease"]["errors"] == [], made
        listed = await portal.gql(LIST_BY, {"id": patient_gid(patient_id)}, as_user=user)
        [only] = listed["data"]["patient"]["recordsReleaseRequests"]
        assert only["status"] == "REQUESTED"
        assert only["requestedBy"]["isPatient"] is False
    assert len(await stored(portal)) == 3
    listed = await portal.gql(LIST, {"id": patient_gid(LEO)}, as_user=LEO_ACCOUNT)
    assert len(listed["data"]["patient"]["recordsReleaseRequests"]) == 1
    # Through node(id), someone else's request answers like an unknown one.
    gid = str(to_global_id("RecordsReleaseRequest", leos.id))
    node = await portal.gql(NODE, {"id": gid}, as_user=ALEX)
    assert node["data"]["node"] is None
    assert errors_of(node) == [("FORBIDDEN", "SELF_ONLY")]


async def test_a_refused_request_is_a_typed_error_and_nothing_is_stored(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"recipientName": None}, "RECIPIENT_NAME_REQUIRED", "recipientName"),
        ({"recipientFax": None}, "DELIVERY_REQUIRED", "recipientEmail"),
        ({"recipientEmail": "records@clinic.example"}, "DELIVERY_REQUIRED", "recipientEmail"),
        ({"recipientFax": None, "recipientEmail": "nope"}, "INVALID_EMAIL", "recipientEmail"),
        ({"recipientFax": "555-0100"}, "INVALID_FAX", "recipientFax"),
        ({"fromDate": "2026-12-01", "toDate": None}, "INVALID_DATE_RANGE", "fromDate"),
        ({"toDate": "2024-01-01"}, "INVALID_DATE_RANGE", "toDate"),
        ({"note": "x" * 1001}, "TOO_LONG", "note"),
        (
            {
                "recipientFax": None,
                "recipientAddress": {"line1": " ", "city": "B", "state": "MA", "postalCode": "1"},
            },
            "INVALID_ADDRESS",
            "recipientAddress",
        ),
    ]
    for overrides, code, field in cases:
        result = await release(portal, ALEX, to_provider(ALEX_PATIENT, **overrides))
        payload = result["data"]["requestRecordsRelease"]
        assert payload["request"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)], overrides
    assert await stored(portal) == []
