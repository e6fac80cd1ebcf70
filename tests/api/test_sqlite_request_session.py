"""SQLite, the embedded default: an HTTP request reads in one transaction on one connection
(loaders.base.RequestSession), so all of its batches see one snapshot of the database; its
writes (the audit, the session's last use) end that read transaction first, so a writer
that committed meanwhile cannot make them fail; and mutations still work beside reads."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from loaders import base
from loaders.base import RequestSession
from persistence import models as m
from tests.api.builders import add_patient_with_lists
from tests.api.test_messaging import SEND, new_thread
from tests.api.test_no_n_plus_one import DASHBOARD
from tests.conftest import ACCOUNT_IDS, ALEX, Portal, _portal, errors_of, make_database, patient_gid

ALEX_PATIENT = "pat-0000001"
VIEWER = "query Viewer { viewer { account { email } } }"


@pytest.fixture
async def sqlite_portal(tmp_path: Path, dataset_dir: Path) -> AsyncIterator[Portal]:
    database = await make_database("sqlite", tmp_path, dataset_dir)
    async for portal in _portal(database):
        yield portal


def _path(portal: Portal) -> str:
    database = make_url(str(portal.services.engine.url)).database
    assert database
    return database


def _commit_elsewhere(portal: Portal, sql: str, *params: object) -> None:
    """A write by another connection (another process, as far as SQLite can tell)."""
    connection = sqlite3.connect(_path(portal), timeout=5)
    try:
        connection.execute(sql, params)
        connection.commit()
    finally:
        connection.close()


@contextmanager
def on_first_batch(write: tuple[str, tuple[object, ...]], portal: Portal) -> Iterator[list[str]]:
    """Commit `write` from another connection as the request's first loader batch starts:
    after its authentication read, before the batch's own statement."""
    seen: list[str] = []

    def observe(loader: str, _size: int) -> None:
        if not seen:
            _commit_elsewhere(portal, write[0], *write[1])
        seen.append(loader)

    base.batch_observers.append(observe)
    try:
        yield seen
    finally:
        base.batch_observers.remove(observe)


async def _email(portal: Portal) -> str:
    async with portal.services.session() as session:
        email = await session.scalar(
            select(m.Account.email).where(m.Account.id == ACCOUNT_IDS[ALEX])
        )
    assert email is not None
    return email


async def test_a_request_reads_one_snapshot(sqlite_portal: Portal) -> None:
    """A write committed between two statements of one request is not seen by the second:
    the request answers from the database as it was at its first read."""
    portal = sqlite_portal
    token = await portal.token(ALEX)
    before = await _email(portal)
    change = (
        "UPDATE accounts SET email = ? WHERE id = ?",
        ("moved@example.test", ACCOUNT_IDS[ALEX]),
    )
    with on_first_batch(change, portal) as batches:
        result = await portal.gql(VIEWER, token=token)
    assert batches, "the account was read by a loader batch, after the authentication"
    assert result["data"]["viewer"]["account"]["email"] == before
    # The write was committed, and the next request sees it.
    result = await portal.gql(VIEWER, token=token)
    assert result["data"]["viewer"]["account"]["email"] == "moved@example.test"


async def test_the_audit_is_written_before_the_response_though_a_writer_came_between(
    sqlite_portal: Portal,
) -> None:
    """The request's snapshot is stale once another connection has committed: its audit
    INSERT inside that read transaction would be refused at once (SQLITE_BUSY_SNAPSHOT) and
    only queued for the background writer. It ends the read transaction first, and is
    durable when the response leaves."""
    portal = sqlite_portal
    patient_id, account_id = await add_patient_with_lists(portal, "audited", 2)
    token = await portal.token_for_account(account_id)
    # Any committed write will do: the session of another account is touched.
    other = (
        "UPDATE accounts SET last_login_at = CURRENT_TIMESTAMP WHERE id = ?",
        (ACCOUNT_IDS[ALEX],),
    )
    with on_first_batch(other, portal):
        response = await portal.client.post(
            "/graphql",
            json={"query": DASHBOARD, "variables": {"id": patient_gid(patient_id), "n": 2}},
            headers={"authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()
    assert portal.services.audit.pending == 0  # nothing left for the background writer
    request_id = response.headers["x-request-id"]
    connection = sqlite3.connect(_path(portal))  # as a process started after a crash would
    try:
        rows = connection.execute(
            "SELECT patient_id, action FROM audit_events WHERE request_id = ?", (request_id,)
        ).fetchall()
    finally:
        connection.close()
    assert rows == [(patient_id, "read")]


async def test_writing_ends_the_snapshot_and_later_reads_take_a_new_one(
    sqlite_portal: Portal,
) -> None:
    """`RequestSession.writing` (the audit, the touch of the session's last use) on SQLite:
    the write succeeds on the request's connection though the snapshot is stale, and the
    reads after it see the database as it is then."""
    portal = sqlite_portal
    email = select(m.Account.email).where(m.Account.id == ACCOUNT_IDS[ALEX])
    request = RequestSession(portal.services.read_sessions, shared=True)
    checkouts = portal.services.engine.pool.checkedout  # type: ignore[attr-defined]
    try:
        async with request() as session:
            first = await session.scalar(email)
        _commit_elsewhere(
            portal,
            "UPDATE accounts SET email = ? WHERE id = ?",
            "new@example.test",
            ACCOUNT_IDS[ALEX],
        )
        async with request() as session:
            assert await session.scalar(email) == first  # the same snapshot
        async with request.writing() as session:
            await session.execute(
                text("UPDATE accounts SET failed_sign_ins = 7 WHERE id = :id"),
                {"id": ACCOUNT_IDS[ALEX]},
            )
            await session.commit()
        async with request() as session:
            assert await session.scalar(email) == "new@example.test"
            assert checkouts() == 1
    finally:
        await request.close()
    assert checkouts() == 0
    async with portal.services.session() as session:
        count = await session.scalar(
            select(m.Account.failed_sign_ins).where(m.Account.id == ACCOUNT_IDS[ALEX])
        )
    assert count == 7


async def test_mutations_and_reads_run_side_by_side(sqlite_portal: Portal) -> None:
    """Reads holding their read transactions do not stop concurrent mutations (WAL), and a
    mutation's own reads and writes are not held up by its request's read transaction."""
    portal = sqlite_portal
    token = await portal.token(ALEX)
    variables = {"id": patient_gid(ALEX_PATIENT), "n": 5}

    async def read() -> None:
        result = await portal.gql(DASHBOARD, variables, token=token)
        assert "errors" not in result, result

    async def write(n: int) -> None:
        fields = new_thread(ALEX_PATIENT, subject=f"Side by side {n}", body=f"Message {n}.")
        result = await portal.gql(SEND, {"input": fields}, token=token)
        assert errors_of(result) == [], result
        assert result["data"]["sendMessage"]["errors"] == []

    await asyncio.wait_for(
        asyncio.gather(*(read() for _ in range(8)), *(write(n) for n in range(4))), 60
    )
    assert portal.services.audit.pending == 0
    assert portal.services.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    async with portal.services.session() as session:
        subjects = await session.scalars(
            select(m.MessageThread.subject).where(m.MessageThread.subject.like("Side by side %"))
        )
        assert sorted(subjects) == [f"Side by side {n}" for n in range(4)]
