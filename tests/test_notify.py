"""Who is told about a change to a patient's record: the patient and the proxies whose grant
lets them read that area now (persistence/notify.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import AgePolicy
from domain.events import EventKind
from domain.scopes import RecordArea
from persistence import models as m
from persistence.db import create_engine, session_factory
from persistence.notify import Notice, notify
from tests.conftest import ACCOUNT_IDS, ALEX, JORDAN, LEO_ACCOUNT, NOW, Database


async def _leo(session: AsyncSession) -> str:
    account = await session.get(m.Account, ACCOUNT_IDS[LEO_ACCOUNT])
    assert account is not None
    assert account.patient_id is not None
    return str(account.patient_id)


async def test_an_adolescents_result_reaches_him_and_not_his_parents(fresh_db: Database) -> None:
    engine = create_engine(fresh_db.url)
    sessions = session_factory(engine)
    async with sessions() as session:
        leo = await _leo(session)
        notice = Notice("RESULT_RELEASED", RecordArea.RESULTS, "New result", "", "res-1")
        added = await notify(session, leo, notice, NOW, AgePolicy())
        assert [n.account_id for n in added] == [ACCOUNT_IDS[LEO_ACCOUNT]]

        visit = Notice("APPOINTMENT_CHANGED", RecordArea.APPOINTMENTS, "Moved", "", "apt-1")
        added = await notify(session, leo, visit, NOW, AgePolicy())
        recipients = {n.account_id for n in added}
        assert recipients == {ACCOUNT_IDS[LEO_ACCOUNT], ACCOUNT_IDS[ALEX], ACCOUNT_IDS[JORDAN]}
        await session.commit()

        events = (await session.scalars(select(m.OutboxEvent).order_by(m.OutboxEvent.seq))).all()
        assert [e.kind for e in events] == [EventKind.NOTIFICATION_ADDED.value] * 4
        assert [e.seq for e in events] == sorted({e.seq for e in events})
        assert {e.account_id for e in events[1:]} == recipients
    await engine.dispose()


async def test_nothing_is_kept_when_the_write_rolls_back(fresh_db: Database) -> None:
    engine = create_engine(fresh_db.url)
    sessions = session_factory(engine)
    async with sessions() as session:
        leo = await _leo(session)
        notice = Notice("RESULT_RELEASED", RecordArea.RESULTS, "New result", "", "res-1")
        await notify(session, leo, notice, NOW, AgePolicy())
        await session.rollback()
        assert (await session.scalars(select(m.OutboxEvent))).all() == []
    await engine.dispose()
