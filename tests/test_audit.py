"""The PHI access log: every read recorded before the response leaves, and not lost when a
write fails."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from persistence import models as m
from persistence.audit import AuditEntry, AuditWriter
from persistence.db import create_engine, session_factory
from persistence.migrate import upgrade
from tests.conftest import ALEX, NOW, Portal, patient_gid

MIA = "pat-0000003"

READ_MIA = """
query ChildAppointments($id: ID!) {
  patient(id: $id) { name { display } appointments { edges { node { visitType } } } }
}
"""


async def _audit_rows(portal: Portal, patient_id: str) -> list[m.AuditEvent]:
    async with portal.services.session() as session:
        stmt = select(m.AuditEvent).where(m.AuditEvent.patient_id == patient_id)
        return list((await session.scalars(stmt)).all())


async def test_a_proxy_read_is_audited_before_the_response(fresh_portal: Portal) -> None:
    portal = fresh_portal
    result = await portal.gql(READ_MIA, {"id": patient_gid(MIA)}, as_user=ALEX)
    assert "errors" not in result
    # Written by the request itself: in the table once the response is back, nothing queued.
    assert portal.services.audit.pending == 0
    [row] = await _audit_rows(portal, MIA)
    assert (row.account_id, row.actor_name, row.acting_as, row.action) == (
        "acc-0000001",
        "Alexandra Rivera",
        "parent",
        "read",
    )
    assert row.operation == "ChildAppointments"
    assert row.object_types == "Appointment,Patient"
    assert row.at == NOW
    assert row.request_id


async def test_a_refused_read_is_not_logged_as_a_read(fresh_portal: Portal) -> None:
    stranger = "pat-0000010"
    result = await fresh_portal.gql(READ_MIA, {"id": patient_gid(stranger)}, as_user=ALEX)
    assert result["data"] == {"patient": None}
    await fresh_portal.services.audit.flush()
    assert await _audit_rows(fresh_portal, stranger) == []


def _entry(n: int) -> AuditEntry:
    return AuditEntry(NOW, "acc-1", "A", f"pat-{n}", "self", "read", "Op", "Patient", None, None)


async def test_failed_batches_are_kept_and_written_later(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    engine = create_engine(url)
    writer = AuditWriter(session_factory(engine), interval=3600)
    writer.submit([_entry(1), _entry(2)])
    with pytest.raises(Exception, match="no such table"):
        await writer.flush()  # the table does not exist yet: the batch stays queued
    assert writer.pending == 2
    await asyncio.to_thread(upgrade, url)
    writer.submit([_entry(3)])
    await writer.close()  # a clean stop drains the queue
    async with session_factory(engine)() as session:
        count = await session.scalar(select(func.count()).select_from(m.AuditEvent))
    assert count == 3
    await engine.dispose()


async def test_a_failed_write_is_queued_and_written_later(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    engine = create_engine(url)
    sessions = session_factory(engine)
    writer = AuditWriter(sessions, interval=3600)
    await writer.write([_entry(1)], sessions)  # no table yet: logged, kept for the retry
    assert writer.pending == 1
    await asyncio.to_thread(upgrade, url)
    await writer.write([_entry(2)], sessions)
    assert writer.pending == 1
    await writer.close()
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(m.AuditEvent))
    assert count == 2
    await engine.dispose()
