"""The PHI access log: every read recorded before the response leaves, and not lost when a
write fails."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from persistence import audit
from persistence import models as m
from persistence.audit import AuditEntry, AuditWriter
from persistence.db import SERVER_SETTINGS, create_engine, reading_engine, session_factory
from persistence.migrate import upgrade
from portal import cli
from runtime.realtime.sharing import Gathering
from schema.base import to_global_id
from tests.conftest import ALEX, NOW, Portal, make_database, patient_gid

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


async def test_a_long_operation_name_is_cut_to_its_column_not_lost(fresh_portal: Portal) -> None:
    """An operation's name is the client's: any length GraphQL allows. The audit row keeps
    its first 200 characters (the column's size) and is written before the response."""
    portal = fresh_portal
    name = "Child" + "A" * 295
    result = await portal.gql(
        READ_MIA.replace("ChildAppointments", name), {"id": patient_gid(MIA)}, as_user=ALEX
    )
    assert "errors" not in result
    assert portal.services.audit.pending == 0
    [row] = await _audit_rows(portal, MIA)
    assert row.operation == name[:200]


async def test_a_refused_read_is_not_logged_as_a_read(fresh_portal: Portal) -> None:
    stranger = "pat-0000010"
    result = await fresh_portal.gql(READ_MIA, {"id": patient_gid(stranger)}, as_user=ALEX)
    assert result["data"] == {"patient": None}
    await fresh_portal.services.audit.flush()
    assert [row.action for row in await _audit_rows(fresh_portal, stranger)] == ["refused"]


# -- refused reads (docs/audit.md) ---------------------------------------------------------
STRANGER = "pat-0000010"
NODE = "query Probe($id: ID!) { node(id: $id) { id } }"
ACCESS_LOG = """
query AccessLog($id: ID!) {
  patient(id: $id) { accessLog(first: 50) { nodes { action operation } } }
}
"""
LEO = "pat-0000004"  # Alex's son, 14: his confidential areas are refused to her
LEO_MESSAGES = "query LeoThreads($id: ID!) { patient(id: $id) { messageThreads { nodes { id } } } }"


async def _refused(portal: Portal) -> list[m.AuditEvent]:
    await portal.services.audit.flush()
    async with portal.services.session() as session:
        stmt = select(m.AuditEvent).where(m.AuditEvent.action == "refused")
        return list((await session.scalars(stmt.order_by(m.AuditEvent.id))).all())


async def test_a_forbidden_patient_read_is_audited_as_refused(fresh_portal: Portal) -> None:
    portal = fresh_portal
    result = await portal.gql(READ_MIA, {"id": patient_gid(STRANGER)}, as_user=ALEX)
    assert result["errors"][0]["extensions"] == {"code": "FORBIDDEN", "reason": "NOT_A_PATIENT"}
    [row] = await _refused(portal)
    assert (row.account_id, row.actor_name, row.patient_id, row.object_id) == (
        "acc-0000001",
        "Alexandra Rivera",
        STRANGER,
        None,
    )
    assert (row.reason, row.operation, row.object_types) == (
        "NOT_A_PATIENT",
        "ChildAppointments",
        "patient",
    )
    assert row.request_id
    assert row.at == NOW


async def test_a_refused_field_names_its_area(fresh_portal: Portal) -> None:
    result = await fresh_portal.gql(LEO_MESSAGES, {"id": patient_gid(LEO)}, as_user=ALEX)
    [error] = result["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    [row] = await _refused(fresh_portal)
    assert (row.patient_id, row.area, row.reason, row.object_types) == (
        LEO,
        error["extensions"]["area"],
        error["extensions"]["reason"],
        "patient.messageThreads",
    )


async def test_a_probed_node_id_is_audited_with_the_object_asked_for(fresh_portal: Portal) -> None:
    portal = fresh_portal
    async with portal.services.session() as session:
        result_id = await session.scalar(
            select(m.Result.id).where(m.Result.patient_id == STRANGER).limit(1)
        )
    assert result_id is not None
    unknown = "res-does-not-exist"
    answers = [
        await portal.gql(NODE, {"id": to_global_id("Result", rid)}, as_user=ALEX)
        for rid in (result_id, unknown)
    ]
    # The client cannot tell an existing object from an unknown one ...
    assert answers[0] == answers[1]
    assert answers[0]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # ... the operator can see both attempts, with what was asked for.
    rows = await _refused(portal)
    assert [(r.patient_id, r.object_id, r.area) for r in rows] == [
        (STRANGER, f"Result:{result_id}", "RESULTS"),
        (None, f"Result:{unknown}", "RESULTS"),
    ]


async def test_refused_reads_stay_out_of_the_patients_access_log(fresh_portal: Portal) -> None:
    portal = fresh_portal
    await portal.gql(READ_MIA, {"id": patient_gid(STRANGER)}, as_user=ALEX)
    assert len(await _refused(portal)) == 1
    owner = await _owner_of(portal, STRANGER)
    result = await portal.gql(
        ACCESS_LOG, {"id": patient_gid(STRANGER)}, token=await portal.token_for_account(owner)
    )
    assert "errors" not in result, result
    assert [n["action"] for n in result["data"]["patient"]["accessLog"]["nodes"]] == []


async def test_the_operator_lists_refused_reads(fresh_portal: Portal) -> None:
    portal = fresh_portal
    await portal.gql(READ_MIA, {"id": patient_gid(STRANGER)}, as_user=ALEX)
    await portal.gql(READ_MIA, {"id": patient_gid(MIA)}, as_user=ALEX)  # allowed: not listed
    await portal.services.audit.flush()
    url = portal.services.settings.database_url
    args = ["--database-url", url, "audit", "--refused", "--hours", "100000"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert await asyncio.to_thread(cli.main, [*args, "--account", "acc-0000001"]) == 0
    header, *lines = out.getvalue().splitlines()
    assert header.split("\t")[:6] == ["at", "account", "patient", "object", "area", "reason"]
    [line] = lines
    assert line.split("\t")[1:6] == ["acc-0000001", STRANGER, "-", "-", "NOT_A_PATIENT"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert await asyncio.to_thread(cli.main, [*args, "--account", "acc-0000002"]) == 0
    assert len(out.getvalue().splitlines()) == 1  # the header only


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


async def test_a_row_the_database_refuses_does_not_hold_its_batch_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One entry the database can never take (here a missing time) is set aside and logged;
    the others of its batch are written, and nothing stays queued to fail again."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    writer = AuditWriter(session_factory(engine), interval=3600)
    broken = dataclasses.replace(_entry(2), at=None)  # type: ignore[arg-type]
    writer.submit([_entry(1), broken, _entry(3)])
    with caplog.at_level("ERROR", logger="persistence.audit"):
        assert await writer.flush() == 3
    assert writer.pending == 0
    async with session_factory(engine)() as session:
        written = await session.scalars(select(m.AuditEvent.patient_id))
        assert sorted(str(patient) for patient in written) == ["pat-1", "pat-3"]
    assert "audit entry set aside" in caplog.text
    await engine.dispose()


async def _owner_of(portal: Portal, patient_id: str) -> str:
    async with portal.services.session() as session:
        owner = await session.scalar(select(m.Account.id).where(m.Account.patient_id == patient_id))
    assert owner is not None
    return owner


async def test_concurrent_deliveries_share_one_write(tmp_path: Path) -> None:
    """Group commit: what arrives while a write runs goes in the next one, and each caller
    returns only once its own entries are written."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    statements: list[str] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _conn, _cursor, sql, *_: statements.append(sql),
    )
    writer = AuditWriter(sessions, interval=3600)

    async def deliver(n: int) -> int:
        await writer.write_together([_entry(n)], sessions)
        async with sessions() as session:  # written by the time the caller may send
            stmt = select(func.count()).where(m.AuditEvent.patient_id == f"pat-{n}")
            return await session.scalar(stmt) or 0

    assert await asyncio.gather(*(deliver(n) for n in range(50))) == [1] * 50
    inserts = [s for s in statements if s.startswith("INSERT INTO audit_events")]
    assert 1 <= len(inserts) <= 2  # the first caller's write, then everyone who came meanwhile
    await engine.dispose()


async def test_a_group_that_keeps_moving_on_is_one_statement_and_a_stalled_one_waits_little(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deliveries of one event hand their rows in one after the other: each within
    GATHER_SECONDS of the one before, but all of them over longer than that (a busy
    machine), they still go in one statement. A delivery that stalls holds the others
    back GATHER_SECONDS from the last one that moved on, no longer."""
    gather = 0.25  # larger than the default: sleeps here overshoot on a loaded machine
    monkeypatch.setattr(audit, "GATHER_SECONDS", gather)
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    inserts: list[int] = []

    def seen(_conn: object, _cursor: object, sql: str, parameters: object, *_: object) -> None:
        if sql.startswith("INSERT INTO audit_events"):
            inserts.append(len(parameters) if isinstance(parameters, list) else 1)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    writer = AuditWriter(sessions, interval=3600)

    async def deliver(gathering: Gathering, n: int, after: float) -> None:
        await asyncio.sleep(after)
        gathering.leave()
        together = None if gathering.all_in() is None else gathering
        await writer.write_together([_entry(n)], sessions, together)

    moving = Gathering()
    for _ in range(4):
        moving.join()
    # 0, 0.4, 0.8, 1.2 times GATHER_SECONDS: each near the one before, all over longer.
    await asyncio.gather(*(deliver(moving, n, n * gather * 0.4) for n in range(4)))
    assert inserts == [4]
    stalled = Gathering()
    for _ in range(3):
        stalled.join()  # the third never hands its rows in
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(deliver(stalled, 5, 0), deliver(stalled, 6, 0))
    waited = loop.time() - started
    assert inserts == [4, 2]
    assert gather <= waited < 3 * gather
    await engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_deliveries_written_together_are_durable_on_both_backends(
    backend: str, tmp_path: Path
) -> None:
    """The deliveries' write (PostgreSQL: straight through asyncpg on an autocommit
    connection, no session) has every caller's rows committed when it returns, and a write
    that fails (no table yet) queues its rows for the background writer."""
    database = await make_database(backend, tmp_path, None)
    engine = create_engine(database.url)
    try:
        sessions = session_factory(reading_engine(engine))
        async with engine.begin() as connection:  # the table gone: the first write fails
            await connection.execute(text("ALTER TABLE audit_events RENAME TO audit_events_x"))
        writer = AuditWriter(session_factory(engine), interval=3600)
        await writer.write_together([_entry(0)], sessions)
        assert writer.pending == 1
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE audit_events_x RENAME TO audit_events"))

        async def deliver(n: int) -> int:
            await writer.write_together([_entry(n)], sessions)
            async with sessions() as session:  # committed by the time the caller may send
                stmt = select(func.count()).where(m.AuditEvent.patient_id == f"pat-{n}")
                return await session.scalar(stmt) or 0

        assert await asyncio.gather(*(deliver(n) for n in range(1, 51))) == [1] * 50
        await writer.close()  # the failed one, retried
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(m.AuditEvent)) == 51
    finally:
        await engine.dispose()
        if database.drop:
            await database.drop()


@pytest.mark.parametrize("reading", [True, False], ids=["autocommit", "transaction"])
async def test_a_requests_audit_write_is_committed_when_it_returns(
    reading: bool, tmp_path: Path
) -> None:
    """PostgreSQL: on the request's autocommit session the INSERT is committed as it runs
    (no commit is asked of the session); on a session whose transaction is open (it read
    before) it is committed before `write` returns. Either way another connection sees it
    at once."""
    database = await make_database("postgres", tmp_path, None)
    engine = create_engine(database.url)
    try:
        session = session_factory(reading_engine(engine) if reading else engine)()
        await session.execute(text("SELECT 1"))  # the request read first

        @contextlib.asynccontextmanager
        async def the_requests() -> AsyncIterator[AsyncSession]:
            yield session

        writer = AuditWriter(session_factory(engine), interval=3600)
        await writer.write([_entry(7)], the_requests)
        assert writer.pending == 0
        async with session_factory(engine)() as other:
            stmt = select(func.count()).where(m.AuditEvent.patient_id == "pat-7")
            assert await other.scalar(stmt) == 1
        await session.close()
    finally:
        await engine.dispose()
        if database.drop:
            await database.drop()


# Values a JSON round trip could alter: quotes, backslashes, control characters, non-ASCII
# and astral characters, empty strings, NULLs, a non-UTC offset, whole and sub-second times,
# and a naive time (which SQLAlchemy refuses and asyncpg takes for this process's local
# time, as the former one-array-a-column INSERT did).
AWKWARD = [
    AuditEntry(
        datetime(2026, 12, 7, 18, 0, tzinfo=UTC),
        "acc-1",
        'Zoë "Q" O\'Neil \\ 路\n\t\x01',
        "pat-1",
        "self",
        "read",
        "Op\u2028😀",
        "Patient,Appointment",
        "rid-1",
        "::1",
    ),
    AuditEntry(
        datetime(2026, 12, 7, 13, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
        "acc-2",
        "",
        None,
        "anonymous",
        "refused",
        "",
        "patient.appointments",
        None,
        None,
        "APPOINTMENTS",
        "not_granted",
        "obj-{}[]",
    ),
    AuditEntry(
        datetime(2026, 12, 7, 18, 0, 0, 1),  # noqa: DTZ001
        "acc-3",
        "A",
        "pat-3",
        "self",
        "read",
        "Op",
        "",
        "r",
        "a",
    ),
]


async def test_the_requests_insert_writes_the_rows_the_orm_writes(tmp_path: Path) -> None:
    """PostgreSQL: a request's rows, written by asyncpg as one JSON parameter, are the rows
    the background writer's SQLAlchemy INSERT writes for the same entries, value for value
    and in order, on a server whose time zone is neither UTC nor this process's; a naive
    time is this process's local time."""
    database = await make_database("postgres", tmp_path, None)
    settings = {**SERVER_SETTINGS, "TimeZone": "America/St_Johns"}
    engine = create_engine(database.url, connect_args={"server_settings": settings})
    try:
        sessions = session_factory(reading_engine(engine))
        writer = AuditWriter(session_factory(engine), interval=3600)
        await writer.write(AWKWARD, sessions)  # asyncpg, one statement
        assert writer.pending == 0
        aware = AWKWARD[:2]
        writer.submit(aware)
        assert await writer.flush() == len(aware)  # SQLAlchemy's executemany
        columns = [getattr(m.AuditEvent, c) for c in audit.AUDIT_COLUMNS]
        async with sessions() as session:
            rows = (await session.execute(select(*columns).order_by(m.AuditEvent.id))).all()
        assert len(rows) == len(AWKWARD) + len(aware)
        assert [tuple(r) for r in rows[: len(aware)]] == [tuple(r) for r in rows[len(AWKWARD) :]]
        assert [r.at for r in rows[: len(AWKWARD)]] == [
            e.at if e.at.tzinfo else e.at.astimezone() for e in AWKWARD
        ]
        assert [r[1:] for r in rows[: len(AWKWARD)]] == [
            dataclasses.astuple(e)[1:] for e in AWKWARD
        ]
    finally:
        await engine.dispose()
        if database.drop:
            await database.drop()
