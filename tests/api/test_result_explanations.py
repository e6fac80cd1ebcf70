"""Results explained (a LOINC-keyed catalog the EHR feed extends) and asked about (a thread
linked to the result both ways, routed to the ordering provider, under the messaging rules),
on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from persistence import models as m
from persistence import results as explanations
from schema.base import to_global_id
from tests.conftest import ALEX, JORDAN, NOW, Database, Portal, _portal, errors_of

TOKEN = "test-integration-token-explain-0123456789"
ALEX_PT = "pat-0000001"
ORDERING = "prv-00003"
RELEASED, PENDING = "res-ask-released", "res-ask-pending"


@pytest.fixture
async def lab(fresh_db: Database) -> AsyncIterator[Portal]:
    """The explanation catalog; a released lipid panel of Alex's and a pending one."""
    async for portal in _portal(fresh_db, integration_token=TOKEN):
        at = NOW - timedelta(days=1)
        result = {
            "patient_id": ALEX_PT,
            "ordering_provider_id": ORDERING,
            "name": "Lipid Panel",
            "code": "24331-1",
            "kind": "lab",
            "collected_at": at,
            "resulted_at": at,
            "provider_comment": None,
            "report": None,
        }
        async with portal.services.session() as session, session.begin():
            await explanations.publish_catalog(session, NOW)
            await session.execute(
                insert(m.Result),
                [
                    {**result, "id": RELEASED, "status": "final", "released_at": at},
                    {**result, "id": PENDING, "status": "preliminary", "released_at": None},
                ],
            )
            await session.execute(
                insert(m.ResultComponent),
                [
                    {
                        "result_id": RELEASED,
                        "patient_id": ALEX_PT,
                        "position": 0,
                        "loinc": "2093-3",
                        "name": "Cholesterol",
                        "value": 180.0,
                        "value_text": None,
                        "unit": "mg/dL",
                        "ref_low": None,
                        "ref_high": 199.0,
                    }
                ],
            )
        yield portal


def rid(result_id: str) -> str:
    return str(to_global_id("Result", result_id))


EXPLAINED = """query($id: ID!) { node(id: $id) { ... on Result {
  explanation { code text moreUrl }
  components { code explanation { code text moreUrl } } } } }"""


async def test_a_result_and_its_components_are_explained(lab: Portal) -> None:
    result = await lab.gql(EXPLAINED, {"id": rid(RELEASED)}, as_user=ALEX)
    node = result["data"]["node"]
    assert node["explanation"]["code"] == "24331-1"
    assert node["explanation"]["moreUrl"].startswith("https://")
    [component] = node["components"]
    assert component["explanation"]["text"].startswith("Total cholesterol")
    trend = await lab.gql(
        """query($id: ID!) { patient(id: $id) {
             resultTrend(code: "2093-3") { value explanation { code } } } }""",
        {"id": str(to_global_id("Patient", ALEX_PT))},
        as_user=ALEX,
    )
    points = trend["data"]["patient"]["resultTrend"]
    assert {"value": 180.0, "explanation": {"code": "2093-3"}} in points
    # The EHR replaces one and adds another; a bad link is refused with nothing changed.
    for code, text in (("2093-3", "Cholesterol, explained by the clinic."),):
        event = {
            "id": "expl-1",
            "type": "RESULT_EXPLANATION_UPDATED",
            "occurredAt": NOW.isoformat(),
            "data": {"code": code, "text": text, "moreUrl": "https://example.org/chol"},
        }
        headers = {"authorization": f"Bearer {TOKEN}"}
        response = await lab.client.post("/integration/events", json=event, headers=headers)
        assert response.status_code == 200, response.text
    bad = {
        "id": "expl-2",
        "type": "RESULT_EXPLANATION_UPDATED",
        "occurredAt": NOW.isoformat(),
        "data": {"code": "2093-3", "text": "x", "moreUrl": "javascript:alert(1)"},
    }
    refused = await lab.client.post(
        "/integration/events", json=bad, headers={"authorization": f"Bearer {TOKEN}"}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "data.moreUrl", "message": "must be an https:// link"}
    ]
    again = await lab.gql(EXPLAINED, {"id": rid(RELEASED)}, as_user=ALEX)
    [component] = again["data"]["node"]["components"]
    assert component["explanation"] == {
        "code": "2093-3",
        "text": "Cholesterol, explained by the clinic.",
        "moreUrl": "https://example.org/chol",
    }


ASK = """mutation($input: AskAboutResultInput!) { askAboutResult(input: $input) {
  thread { id subject category provider { id } result { id } }
  message { body } errors { code field } } }"""
LINKED = """query($id: ID!) { node(id: $id) { ... on Result { questionThreads { id } } } }"""


async def ask(portal: Portal, result_id: str, user: str = ALEX, **extra: Any) -> dict[str, Any]:
    input = {"resultId": rid(result_id), "body": "Is my cholesterol fine?"} | extra
    return await portal.gql(ASK, {"input": input}, as_user=user)


async def threads(portal: Portal) -> int:
    async with portal.services.session() as session:
        return int(await session.scalar(select(func.count()).select_from(m.MessageThread)) or 0)


async def test_ask_about_a_result_links_both_ways_and_goes_to_the_ordering_provider(
    lab: Portal,
) -> None:
    before = await threads(lab)
    unacknowledged = (await ask(lab, RELEASED))["data"]["askAboutResult"]
    assert unacknowledged["errors"] == [
        {"code": "EVISIT_NOT_ACKNOWLEDGED", "field": "acknowledgeEVisitBilling"}
    ]
    pending = (await ask(lab, PENDING, acknowledgeEVisitBilling=True))["data"]["askAboutResult"]
    assert pending["errors"] == [{"code": "RESULT_NOT_RELEASED", "field": "resultId"}]
    empty = await ask(lab, RELEASED, body="  ", acknowledgeEVisitBilling=True)
    assert empty["data"]["askAboutResult"]["errors"][0]["code"] == "BODY_EMPTY"
    stranger = await ask(lab, RELEASED, user=JORDAN, acknowledgeEVisitBilling=True)
    assert errors_of(stranger) == [("FORBIDDEN", "GRANT_NOT_ACTIVE")]
    assert await threads(lab) == before  # nothing refused was written

    asked = (await ask(lab, RELEASED, acknowledgeEVisitBilling=True))["data"]["askAboutResult"]
    assert asked["errors"] == []
    thread = asked["thread"]
    assert thread["subject"] == "Question about my result: Lipid Panel"
    assert thread["category"] == "MEDICAL_QUESTION"
    assert thread["provider"]["id"] == str(to_global_id("Provider", ORDERING))
    assert thread["result"]["id"] == rid(RELEASED)
    assert asked["message"]["body"] == "Is my cholesterol fine?"
    linked = await lab.gql(LINKED, {"id": rid(RELEASED)}, as_user=ALEX)
    assert linked["data"]["node"]["questionThreads"] == [{"id": thread["id"]}]
    async with lab.services.session() as session:
        o = m.OutboxEvent
        events = await session.scalar(
            select(func.count()).where(o.kind == "MESSAGE_RECEIVED", o.patient_id == ALEX_PT)
        )
    assert events == 1
