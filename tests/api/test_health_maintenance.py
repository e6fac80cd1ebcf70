"""Health maintenance: topics from the EHR feed, their status as of today, a link to book
where the visit type allows it, and one notification when a topic becomes due (through
notify(), preferences honoured), on every backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from persistence import models as m
from portal import cli
from portal.jobs import announce_due_health_topics, start_health_maintenance, stop
from tests.conftest import ACCOUNT_IDS, ALEX, NOW, Database, Portal, _portal, patient_gid
from usecases.health_maintenance import Announced

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
                n.account_id == ACCOUNT_IDS[ALEX],
                n.patient_id == ALEX_PT,  # not her children's (the demo data has theirs)
                n.kind == "HEALTH_MAINTENANCE_DUE",
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
    before = await stored_topics(feed)
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
    assert await stored_topics(feed) == before


async def stored_topics(portal: Portal) -> list[tuple[Any, ...]]:
    t = m.HealthMaintenanceTopic
    async with portal.services.session() as session:
        rows = await session.execute(
            select(t.patient_id, t.topic_id, t.due_on).order_by(t.patient_id, t.topic_id)
        )
    return [tuple(row) for row in rows]


# -- topics that become due with time alone (the periodic job) --------------------------------
async def announce(portal: Portal) -> Announced:
    return await announce_due_health_topics(portal.services, portal.clock.now())


async def test_a_topic_due_with_time_alone_is_told_once(feed: Portal, fresh_db: Database) -> None:
    await send(feed, "hm-1", [topic("colonoscopy", 40), topic("tetanus", 400)])
    await announce(feed)  # whatever the demo data has due now is told once, here
    assert await told(feed) == []  # 40 days away: not due yet
    feed.clock.advance(timedelta(days=11))  # now 29 days away: due, with no feed update
    first = await announce(feed)
    assert first.topics >= 1
    notices = await told(feed)
    assert len(notices) == 1
    assert all("olonoscopy" not in title + body for title, body in notices)
    # Again, after a restart, or on a second instance: nothing more.
    assert (await announce(feed)).topics == 0
    async for other in _portal(fresh_db, integration_token=TOKEN):
        other.clock.advance(timedelta(days=11, hours=5))
        assert (await announce(other)).topics == 0
    assert len(await told(feed)) == 1


async def test_two_instances_at_once_tell_a_topic_once(feed: Portal, fresh_db: Database) -> None:
    await send(feed, "hm-1", [topic("colonoscopy", 40), topic("flu-shot", 45)])
    await announce(feed)
    feed.clock.advance(timedelta(days=20))
    async for other in _portal(fresh_db, integration_token=TOKEN):
        other.clock.advance(timedelta(days=20))
        runs = await asyncio.gather(announce(feed), announce(other))
    assert sum(run.topics for run in runs) >= 2  # both of Alex's, told by one of them
    assert len(await told(feed)) == 1
    async with feed.services.session() as session:
        marked = await session.scalars(
            select(m.HealthMaintenanceTopic.notified_for).where(
                m.HealthMaintenanceTopic.patient_id == ALEX_PT
            )
        )
        assert set(marked) == {TODAY + timedelta(days=40), TODAY + timedelta(days=45)}


async def test_a_topic_the_feed_told_is_not_told_again(feed: Portal) -> None:
    await send(feed, "hm-1", [topic("colonoscopy", 10), topic("mammogram", 5, postponed=True)])
    assert len(await told(feed)) == 1  # told by the feed
    feed.clock.advance(timedelta(days=15))  # overdue now; the postponed one stays untold
    await announce(feed)
    assert len(await told(feed)) == 1
    # A new due date sent ahead of time is told when it comes due.
    await send(feed, "hm-2", [topic("colonoscopy", 60)])
    feed.clock.advance(timedelta(days=31))
    await announce(feed)
    assert len(await told(feed)) == 2


async def test_the_app_runs_the_job_and_the_cli_runs_it_once(
    fresh_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    async for portal in _portal(fresh_db, integration_token=TOKEN):
        assert start_health_maintenance(portal.services) is None  # interval 0: off
    async for portal in _portal(
        fresh_db, integration_token=TOKEN, health_maintenance_interval_seconds=3600
    ):
        await send(portal, "hm-1", [topic("colonoscopy", 40)])
        portal.clock.advance(timedelta(days=20))
        task = start_health_maintenance(portal.services)
        assert task is not None
        for _ in range(200):
            if await told(portal):
                break
            await asyncio.sleep(0.05)
        await stop(task)
        assert len(await told(portal)) == 1
    argv = ["--database-url", fresh_db.url, "announce-due-topics"]
    assert await asyncio.to_thread(cli.main, argv) == 0
    assert await asyncio.to_thread(cli.main, argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "announced 0 due topic(s) to 0 patient(s)"
