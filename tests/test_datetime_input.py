"""A DateTime without a zone is a client's mistake (BAD_USER_INPUT saying a zone is needed),
wherever it is given: a variable or a literal, a filter, an argument or a mutation input."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from portal.http import GRAPHQL_RESPONSE, JSON
from tests.conftest import ALEX, Portal, patient_gid

SLOTS_BY_VARIABLE = """
query Slots($after: DateTime) {
  availableSlots(filter: {startsAfter: $after}, first: 2) { nodes { startsAt } }
}
"""
SLOTS_BY_FILTER = """
query Slots($filter: SlotFilter!) { availableSlots(filter: $filter, first: 2) { nodes { id } } }
"""
SLOTS_LITERAL = """
{ availableSlots(filter: {startsAfter: "%s"}, first: 2) { nodes { startsAt } } }
"""
READINGS_SINCE = """
query Readings($id: ID!, $since: DateTime) {
  patient(id: $id) { healthReadings(kind: BLOOD_GLUCOSE, since: $since) { nodes { id } } }
}
"""
READINGS_AFTER = """
query Readings($id: ID!, $after: String) {
  patient(id: $id) { healthReadings(kind: BLOOD_GLUCOSE, first: 5, after: $after) { nodes { id } } }
}
"""
RECORD_READING = """
mutation Record($input: RecordHealthReadingInput!) {
  recordHealthReading(input: $input) { errors { code } }
}
"""
NAIVE = "2026-12-08T09:00:00"


async def post(portal: Portal, body: dict[str, Any], accept: str) -> tuple[int, dict[str, Any]]:
    headers = {"authorization": f"Bearer {await portal.token(ALEX)}", "accept": accept}
    response = await portal.client.post("/graphql", json=body, headers=headers)
    return response.status_code, response.json()


def assert_zone_required(status: int, body: dict[str, Any], accept: str) -> None:
    assert status == (400 if accept == GRAPHQL_RESPONSE else 200), body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "time zone" in error["message"]
    assert "request id" not in error["message"]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
@pytest.mark.parametrize(
    "case",
    ["filter variable", "whole filter variable", "literal", "argument", "mutation input"],
)
async def test_a_datetime_without_a_zone_is_bad_user_input(
    portal: Portal, accept: str, case: str
) -> None:
    alex = patient_gid("pat-0000001")
    bodies: dict[str, dict[str, Any]] = {
        "filter variable": {"query": SLOTS_BY_VARIABLE, "variables": {"after": NAIVE}},
        "whole filter variable": {
            "query": SLOTS_BY_FILTER,
            "variables": {"filter": {"startsBefore": NAIVE}},
        },
        "literal": {"query": SLOTS_LITERAL % NAIVE},
        "argument": {"query": READINGS_SINCE, "variables": {"id": alex, "since": NAIVE}},
        "mutation input": {
            "query": RECORD_READING,
            "variables": {
                "input": {
                    "patientId": alex,
                    "kind": "BLOOD_GLUCOSE",
                    "value": 100,
                    "unit": "mg/dL",
                    "takenAt": NAIVE,
                }
            },
        },
    }
    status, body = await post(portal, bodies[case], accept)
    assert_zone_required(status, body, accept)
    assert body.get("data") is None  # refused before anything ran


@pytest.mark.parametrize("value", ["2026-12-08T09:00:00Z", "2026-12-08T04:00:00-05:00"])
async def test_a_datetime_with_a_zone_is_accepted(portal: Portal, value: str) -> None:
    for body in (
        {"query": SLOTS_BY_VARIABLE, "variables": {"after": value}},
        {"query": SLOTS_LITERAL % value},
    ):
        status, answer = await post(portal, body, GRAPHQL_RESPONSE)
        assert status == 200, answer
        assert "errors" not in answer
        for slot in answer["data"]["availableSlots"]["nodes"]:
            assert slot["startsAt"] >= "2026-12-08T09:00:00"


@pytest.mark.parametrize("value", ["next tuesday", "2026-13-01T00:00:00Z", 1765184400])
async def test_a_datetime_that_is_not_one_is_bad_user_input(
    portal: Portal, value: str | int
) -> None:
    body = {"query": SLOTS_BY_VARIABLE, "variables": {"after": value}}
    status, answer = await post(portal, body, GRAPHQL_RESPONSE)
    assert status == 400
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("moment", [NAIVE, "2026-12-08T09:00:00+00:00"])
async def test_a_cursor_holding_a_datetime_without_a_zone_is_bad_user_input(
    portal: Portal, moment: str
) -> None:
    """Cursors are opaque, but a client can forge one: a naive time in it is refused too."""
    raw = json.dumps([moment, "hr-nope"]).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    body = {
        "query": READINGS_AFTER,
        "variables": {"id": patient_gid("pat-0000001"), "after": cursor},
    }
    status, answer = await post(portal, body, GRAPHQL_RESPONSE)
    assert status == 200
    if moment == NAIVE:
        assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert answer["data"]["patient"] == {"healthReadings": None}
    else:
        assert "errors" not in answer
