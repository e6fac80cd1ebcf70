"""Insurance coverage from the EHR feed (COVERAGE_UPDATED), read under BILLING, with the
card image sent at eCheck-in on the primary coverage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from persistence import models as m
from tests.conftest import (
    ALEX,
    LEO_ACCOUNT,
    NOW,
    SUSAN,
    Database,
    Portal,
    _portal,
    errors_of,
    patient_gid,
)

TOKEN = "test-integration-token-0123456789abcdef"
ALEX_PATIENT, MIA, LEO = "pat-0000001", "pat-0000003", "pat-0000004"
COVERAGES = """
query C($id: ID!) {
  patient(id: $id) {
    coverages {
      id priority payer plan memberId groupNumber subscriberName subscriberRelation
      effectiveFrom effectiveTo
      copays { service amount { amountCents formatted } }
      deductible { met { amountCents } limit { amountCents } }
      outOfPocket { met { amountCents } limit { amountCents } }
      insuranceCard { filename url }
    }
  }
}
"""


@pytest.fixture
async def feed(fresh_db: Database) -> AsyncIterator[Portal]:
    async for p in _portal(fresh_db, integration_token=TOKEN):
        yield p


def coverage(coverage_id: str, patient_id: str, **data: Any) -> dict[str, Any]:
    return {
        "coverageId": coverage_id,
        "patientId": patient_id,
        "payer": "Blue Cross Blue Shield of Massachusetts",
        "plan": "PPO Saver",
        "memberId": "XJH123456789",
        "groupNumber": "004455",
        "subscriberName": "Alexandra Rivera",
        "subscriberRelation": "CHILD",
        "effectiveFrom": "2026-01-01",
        "copays": [{"service": "Office visit", "amountCents": 2500}],
        "deductibleCents": 150000,
        "deductibleMetCents": 42000,
        "outOfPocketMaxCents": 500000,
        "outOfPocketMetCents": 61000,
    } | data


def sent(coverages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The coverages the test sent (the demo data has its own beside them)."""
    return [c for c in coverages if c["memberId"] == "XJH123456789"]


async def send(portal: Portal, event_id: str, data: dict[str, Any]) -> int:
    body = {"id": event_id, "type": "COVERAGE_UPDATED", "occurredAt": NOW.isoformat(), "data": data}
    response = await portal.client.post(
        "/integration/events", json=body, headers={"authorization": f"Bearer {TOKEN}"}
    )
    return response.status_code


async def test_coverage_from_the_feed_is_shown_with_the_card_to_billing_readers(
    feed: Portal,
) -> None:
    assert await send(feed, "cov-1", coverage("cov-mia-1", MIA)) == 200
    second = coverage("cov-mia-2", MIA, priority=2, payer="Medicaid", copays=[])
    assert await send(feed, "cov-2", second) == 200
    # An update replaces what the coverage says.
    assert await send(feed, "cov-3", coverage("cov-mia-1", MIA, deductibleMetCents=50000)) == 200
    async with feed.services.session() as session:
        session.add(
            m.Attachment(
                id="att-card-mia",
                patient_id=MIA,
                purpose="insurance_card",
                position=0,
                filename="card-front.jpg",
                content_type="image/jpeg",
                size_bytes=1000,
                sha256="0" * 64,
                storage_key="k" * 64,
                uploaded_by="acc-0000001",
                created_at=NOW,
            )
        )
        await session.commit()
    result = await feed.gql(COVERAGES, {"id": patient_gid(MIA)}, as_user=ALEX)
    assert "errors" not in result, result
    primary, secondary = sent(result["data"]["patient"]["coverages"])
    assert (primary["priority"], primary["payer"], primary["subscriberRelation"]) == (
        1,
        "Blue Cross Blue Shield of Massachusetts",
        "CHILD",
    )
    assert primary["copays"] == [
        {"service": "Office visit", "amount": {"amountCents": 2500, "formatted": "$25.00"}}
    ]
    assert primary["deductible"] == {
        "met": {"amountCents": 50000},
        "limit": {"amountCents": 150000},
    }
    assert primary["insuranceCard"]["filename"] == "card-front.jpg"
    assert (secondary["payer"], secondary["insuranceCard"]) == ("Medicaid", None)


async def test_who_reads_coverage_and_bad_events(feed: Portal) -> None:
    assert await send(feed, "cov-leo", coverage("cov-leo-1", LEO)) == 200
    # A parent keeps BILLING for an adolescent; so does the adolescent himself.
    for user in (ALEX, LEO_ACCOUNT):
        result = await feed.gql(COVERAGES, {"id": patient_gid(LEO)}, as_user=user)
        assert [c["memberId"] for c in sent(result["data"]["patient"]["coverages"])] == [
            "XJH123456789"
        ]
    denied = await feed.gql(COVERAGES, {"id": patient_gid(LEO)}, as_user=SUSAN)
    assert errors_of(denied) == [("FORBIDDEN", "NOT_A_PATIENT")]
    for n, data in enumerate(
        [
            coverage("cov-x", "pat-nobody"),
            coverage("cov-leo-1", MIA),  # another patient's coverage id
            coverage("cov-y", MIA, effectiveTo="2025-01-01"),
            coverage("cov-z", MIA, subscriberRelation="COUSIN", copays=[{"service": "x"}]),
        ]
    ):
        assert await send(feed, f"cov-bad-{n}", data) == 422, data
    result = await feed.gql(COVERAGES, {"id": patient_gid(MIA)}, as_user=ALEX)
    assert sent(result["data"]["patient"]["coverages"]) == []
