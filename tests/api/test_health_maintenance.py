"""Health maintenance: topics from the EHR feed, their status as of today, a link to book
where the visit type allows it, and one notification when a topic becomes due (through
notify(), preferences honoured), on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from persistence import models as m
from tests.conftest import ACCOUNT_IDS, ALEX, NOW, Database, Portal, _portal, patient_gid

TOKEN = "test-integration-token-maintenance-012345"
ALEX_PT = "pat-0000001"
TODAY = NOW.date()
TOPICS = """query($id: ID!) { patient(id: $id) { healthMaintenance {
  topicId name kind status dueOn lastDoneOn visitType canSelfSchedule } } }"""


@pytest.fixture
async def feed(fresh_db: Database) -> AsyncIterator[Portal]:
    async for portal in _portal(fresh_db, integration_token=TOKEN):
        yield portal


def topic(topic_id: str, days: int | None, **extra: Any) -> dict[str, Any]:
    due = (TODAY + timedelta(days=days)).isoformat() if days is not None else None
    return {
        "topicId": topic_id,
        "name": topic_id.title(),
        "kind": "SCREENING",
        "dueOn": due,
    } | extra


async def send(portal: Portal, event_id: str, topics: list[Any], patient: str = ALEX_PT) -> Any:
    body = {
        "id": event_id,
        "type": "HEALTH_MAINTENANCE_UPDATED",
        "occurredAt": NOW.isoformat(),
        "data": {"patientId": patient, "topics": topics},
    }
    headers = {"authorization": f"Bearer {TOKEN}"}
    return await portal.client.post("/integration/events", json=body, headers=headers)


async def told(portal: Portal) -> list[tuple[str, str]]:
    n = m.Notification
    async with portal.services.session() as session:
        rows = await session.execute(
            select(n.title, n.body).where(
                n.account_id == ACCOUNT_IDS[ALEX], n.kind == "HEALTH_MAINTENANCE_DUE"
            )
        )
    return [(r.title, r.body) for r in rows]


async def test_topics_with_status_and_booking_link(feed: Portal) -> None:
    topics = [
        topic("flu-shot", -10, kind="IMMUNIZATION", visitType="Office Visit"),
        topic("colonoscopy", 10, visitType="Colonoscopy"),
        topic("tetanus", 400, kind="IMMUNIZATION", lastDoneOn="2017-05-01"),
        topic("mammogram", 5, postponed=True),
        topic("hepatitis-b", None, kind="IMMUNIZATION"),
    ]
    response = await send(feed, "hm-1", topics)
    assert response.status_code == 200, response.text
    result = await feed.gql(TOPICS, {"id": patient_gid(ALEX_PT)}, as_user=ALEX)
    found = result["data"]["patient"]["healthMaintenance"]
    assert [(t["topicId"], t["status"]) for t in found] == [
        ("flu-shot", "OVERDUE"),
        ("colonoscopy", "DUE"),
        ("tetanus", "NOT_DUE"),
        ("mammogram", "POSTPONED"),
        ("hepatitis-b", "COMPLETED"),
    ]
    assert found[0]["canSelfSchedule"] is True  # an office visit is booked online
    assert found[1]["canSelfSchedule"] is False  # a procedure is requested
    assert found[2]["lastDoneOn"] == "2017-05-01"
    # The list sent is the list kept: a topic left out is no longer tracked.
    assert (await send(feed, "hm-2", topics[:2])).status_code == 200
    again = await feed.gql(TOPICS, {"id": patient_gid(ALEX_PT)}, as_user=ALEX)
    assert [t["topicId"] for t in again["data"]["patient"]["healthMaintenance"]] == [
        "flu-shot",
        "colonoscopy",
    ]


async def test_told_once_when_a_topic_becomes_due_without_naming_it(feed: Portal) -> None:
    await send(feed, "hm-1", [topic("colonoscopy", 100)])
    assert await told(feed) == []  # not due yet
    await send(feed, "hm-2", [topic("colonoscopy", 10), topic("flu-shot", -1)])
    notices = await told(feed)
    assert len(notices) == 1  # one notice for what became due together
    assert all("olonoscopy" not in title + body for title, body in notices)
    await send(feed, "hm-3", [topic("colonoscopy", 10), topic("flu-shot", -1)])
    assert len(await told(feed)) == 1  # the same due dates: not again
    await send(feed, "hm-4", [topic("colonoscopy", 10), topic("flu-shot", 20)])
    assert len(await told(feed)) == 2  # a new due date is a new reminder


async def test_the_patients_channel_choice_is_honoured(feed: Portal) -> None:
    async with feed.services.session() as session, session.begin():
        await session.execute(
            insert(m.NotificationPreference),
            [
                {
                    "account_id": ACCOUNT_IDS[ALEX],
                    "kind": "HEALTH_MAINTENANCE_DUE",
                    "channels": ["EMAIL"],
                    "updated_at": NOW,
                }
            ],
        )
    await send(feed, "hm-1", [topic("colonoscopy", 10)])
    assert await told(feed) == []  # no in-app notice: email only
    async with feed.services.session() as session:
        mails = await session.scalar(
            select(func.count()).where(m.OutgoingMail.body.contains("a health reminder"))
        )
    assert mails == 1


async def test_a_bad_update_lists_every_problem_and_changes_nothing(feed: Portal) -> None:
    topics = [
        topic("flu-shot", 3, kind="VACCINE"),
        {"topicId": "bad id!", "name": "", "dueOn": "soon", "extra": 1, "kind": "SCREENING"},
        topic("flu-shot", 4),
    ]
    response = await send(feed, "hm-1", topics)
    assert response.status_code == 422
    fields = sorted(p["field"] for p in response.json()["errors"])
    assert fields == [
        "data.topics",
        "data.topics[0].kind",
        "data.topics[1].dueOn",
        "data.topics[1].extra",
        "data.topics[1].name",
        "data.topics[1].topicId",
    ]
    unknown = await send(feed, "hm-2", [topic("flu-shot", 3)], patient="pat-nobody")
    assert unknown.status_code == 422
    async with feed.services.session() as session:
        count = await session.scalar(select(func.count()).select_from(m.HealthMaintenanceTopic))
    assert count == 0
