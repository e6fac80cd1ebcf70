"""Held results are released when their hold ends: once, with an event and notifications,
pushed live to subscribers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import AgePolicy
from domain.events import EventKind
from domain.results import ReleasePolicy
from persistence import models as m
from persistence.db import create_engine, session_factory
from persistence.outbox import OutboxRepository
from persistence.releases import release_due
from schema.base import to_global_id
from tests.conftest import NOW, Database
from tests.realtime.conftest import StartServer
from tests.realtime.harness import (
    ACCOUNTS,
    Client,
    Family,
    result_finalized,
    run_cli,
)

HOLD = ReleasePolicy(hold_by_kind={"imaging": timedelta(hours=72)})
LOOKBACK = timedelta(hours=24)


def _result(result_id: str, patient_id: str, resulted_at: datetime, kind: str) -> m.Result:
    return m.Result(
        id=result_id,
        patient_id=patient_id,
        ordering_provider_id=None,
        name="CT Chest",
        code="24627-2",
        kind=kind,
        collected_at=resulted_at,
        resulted_at=resulted_at,
        status="final",
        released_at=None,
        provider_comment=None,
        report="Impression: normal.",
    )


async def _patient(session: AsyncSession) -> str:
    account = await session.get(m.Account, ACCOUNTS["alex"])
    assert account is not None
    return str(account.patient_id)


async def test_a_result_is_released_once_when_its_hold_ends(fresh_db: Database) -> None:
    engine = create_engine(fresh_db.url)
    sessions = session_factory(engine)
    async with sessions() as session:
        patient = await _patient(session)
        session.add_all(
            [
                _result("res-due", patient, NOW - timedelta(hours=73), "imaging"),
                _result("res-held", patient, NOW - timedelta(hours=71), "imaging"),
                _result("res-long-ago", patient, NOW - timedelta(days=5), "imaging"),
                _result("res-no-hold", patient, NOW - timedelta(hours=1), "lab"),
                _result("res-pushed", patient, NOW - timedelta(hours=74), "imaging"),
            ]
        )
        # The EHR pushed this one already (e.g. released by a provider then corrected).
        OutboxRepository(session).record(
            EventKind.RESULT_RELEASED, object_id="res-pushed", patient_id=patient, now=NOW
        )
        await session.commit()

    async with sessions() as session, session.begin():
        released = await release_due(session, NOW, HOLD, AgePolicy(), LOOKBACK)
    assert released == ["res-due"]
    async with sessions() as session, session.begin():
        assert await release_due(session, NOW, HOLD, AgePolicy(), LOOKBACK) == []  # once

    async with sessions() as session:
        stamped = dict((await session.execute(select(m.Result.id, m.Result.released_at))).all())
        events = (
            await session.scalars(
                select(m.OutboxEvent.object_id).where(m.OutboxEvent.kind == "RESULT_RELEASED")
            )
        ).all()
        notices = (
            await session.scalars(
                select(m.Notification.account_id).where(m.Notification.object_id == "res-due")
            )
        ).all()
    await engine.dispose()
    assert stamped["res-due"] == NOW - timedelta(hours=1)  # when its hold ended
    assert stamped["res-pushed"] is not None  # stamped, not pushed again
    assert stamped["res-held"] is None
    assert stamped["res-long-ago"] is None
    assert stamped["res-no-hold"] is None
    assert sorted(events) == ["res-due", "res-pushed"]
    assert ACCOUNTS["alex"] in notices
    assert ACCOUNTS["jordan"] not in notices


async def test_a_patients_wait_for_my_doctor_keeps_it_held(fresh_db: Database) -> None:
    engine = create_engine(fresh_db.url)
    sessions = session_factory(engine)
    async with sessions() as session:
        patient = await _patient(session)
        session.add(_result("res-wait", patient, NOW - timedelta(hours=73), "imaging"))
        session.add(m.ResultHoldPreference(patient_id=patient, kind="imaging", created_at=NOW))
        await session.commit()
    async with sessions() as session, session.begin():
        assert await release_due(session, NOW, HOLD, AgePolicy(), LOOKBACK) == []
    await engine.dispose()


async def test_the_release_is_pushed_to_subscribers(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    server = await start_server(
        RESULT_HOLD_BY_KIND="lab=0.001",  # 3.6 seconds
        RESULT_RELEASE_INTERVAL_SECONDS="0.3",
    )
    alex = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    op = await alex.subscribe(
        """subscription($afterSeq: ID) {
          resultReleased(afterSeq: $afterSeq) {
            seq result { id releaseStatus components { value } }
          }
        }""",
        after=await server.seq(),
    )
    held = result_finalized(people.mia, "res-held-lab", released=False)
    finalized_at = datetime.now(UTC)
    await server.post_event(held)
    data = (await alex.data(op, within=20))["resultReleased"]["result"]
    assert data["releaseStatus"] == "RELEASED"
    assert data["components"] == [{"value": 92.0}]
    assert datetime.now(UTC) - finalized_at >= timedelta(seconds=3)
    # Released once: the job keeps running, and the next event is the next result.
    await server.post_event(result_finalized(people.mia, "res-next", released=True))
    data = (await alex.data(op))["resultReleased"]["result"]
    assert data["id"] == str(to_global_id("Result", "res-next"))


async def test_portal_release_due_runs_the_job_once(live_db: Database) -> None:
    out = await run_cli("--database-url", live_db.url, "release-due")
    assert "released 0 held result(s)" in out


async def test_portal_demo_ehr_plays_a_reply_and_a_result(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    server = await start_server()
    alex = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    since = await server.seq()
    messages = await alex.subscribe(
        "subscription($afterSeq: ID) { messageReceived(afterSeq: $afterSeq) { message { body } } }",
        after=since,
    )
    results = await alex.subscribe(
        "subscription($afterSeq: ID) { resultReleased(afterSeq: $afterSeq) { result { name } } }",
        after=since,
    )
    out = await run_cli(
        *("--database-url", live_db.url, "demo-ehr", "--patient", "alex.rivera"),
        *("--count", "2", "--every", "0", "--url", server.url),
    )
    assert out.count("HTTP 200") == 2, out
    assert (await alex.data(messages))["messageReceived"]["message"]["body"]
    assert (await alex.data(results))["resultReleased"]["result"]["name"]


async def test_portal_demo_ehr_direct_applies_through_the_feed_use_cases(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    """`--direct` skips HTTP and calls the feed's use cases (usecases/ehr.py) itself: the
    same rows, outbox events and live pushes as the endpoint."""
    server = await start_server()
    alex = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    since = await server.seq()
    messages = await alex.subscribe(
        "subscription($afterSeq: ID) { messageReceived(afterSeq: $afterSeq) { message { body } } }",
        after=since,
    )
    out = await run_cli(
        *("--database-url", live_db.url, "demo-ehr", "--patient", "alex.rivera"),
        *("--count", "2", "--every", "0", "--direct"),
    )
    assert out.count(": applied") == 2, out
    assert (await alex.data(messages))["messageReceived"]["message"]["body"]
