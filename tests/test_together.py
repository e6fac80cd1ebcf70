"""Reads run together in one PostgreSQL statement (persistence/together.py) answer what
each answers alone (`persistence.raw.rows`), value for value, type for type and in order:
over the seeded data, and over a table of every kind of column (JSON, numerics with and
without SQLAlchemy's result processors, NULLs, dates, booleans, ties in the order, no
rows). And the request's batches (loaders/base.py `RequestSession`): those waiting
together that plan their reads are one statement; one alone runs as before; the combined
statement failing, each batch has its own outcome, its error typed as before.
PostgreSQL only: skipped without TEST_DATABASE_URL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    Select,
    String,
    Table,
    bindparam,
    event,
    false,
    func,
    literal,
    select,
    text,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from domain.access import Principal
from domain.paging import Page
from domain.scopes import RecordArea
from loaders.base import Plan, Read, RequestSession, SessionLoader
from persistence import raw, together
from persistence.db import create_engine, reading_engine, session_factory
from persistence.queries import appointments, billing, messages, people, results
from tests.conftest import NOW, Database, make_database
from tests.test_raw_rows import grants_of, typed

Reads = list[tuple[Select[Any], dict[str, Any]]]


@pytest.fixture(scope="module")
async def database(
    tmp_path_factory: pytest.TempPathFactory, dataset_dir: Path
) -> AsyncIterator[Database]:
    db = await make_database("postgres", tmp_path_factory.mktemp("together"), dataset_dir)
    yield db
    if db.drop:
        await db.drop()


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url)
    yield engine
    await engine.dispose()


def _rows(rows: Sequence[Sequence[Any]]) -> Any:
    return typed([tuple(row) for row in rows])


async def _both(session: AsyncSession, reads: Reads) -> tuple[list[Any], list[Any]]:
    """Each read's rows alone, and together (typed: equal only if values and types are)."""
    alone = [_rows(await raw.rows(session, statement, values)) for statement, values in reads]
    parts = await together.rows_together(session, reads)
    assert parts is not None, "these reads run together"
    return alone, [_rows(part) for part in parts]


def _account_reads(principal: Principal) -> Reads:
    """Every read the request combines, in each of its forms, for one account."""
    found: list[Any] = []
    grants = grants_of(principal, RecordArea.APPOINTMENTS)
    for when in ("UPCOMING", "PAST"):
        found.append(appointments.appointment_read("postgresql", grants, Page(3, None, when), NOW))
        after = Page(3, (NOW - timedelta(days=30), "apt-5"), when)
        found.append(appointments.appointment_read("postgresql", grants, after, NOW))
    grants = grants_of(principal, RecordArea.RESULTS)
    for kind in (None, "lab"):
        found.append(results.result_read("postgresql", grants, Page(5, None, kind)))
    grants = grants_of(principal, RecordArea.BILLING)
    for status in (None, "open"):
        found.append(billing.statement_read("postgresql", grants, Page(4, None, status)))
    reads: Reads = [(read.statement, read.values) for read in found]
    reads.append((billing.OPEN_TOTALS, billing.open_totals_values(grants)))
    grants = grants_of(principal, RecordArea.MESSAGES)
    if grants:  # reads of messages need a reader
        for asked in (
            Page(5),
            Page(5, None, messages.UNREAD),
            messages.ThreadPage(5, None, None, 2),
            messages.ThreadPage(5, None, messages.UNREAD, 1),
        ):
            read = messages.thread_read("postgresql", grants, asked)
            reads.append((read.statement, read.values))
        reads.append((messages.UNREAD_BY_PATIENT, messages.unread_by_patient_values(grants)))
    return reads


async def test_reads_together_answer_as_each_alone_over_the_seeded_data(
    engine: AsyncEngine,
) -> None:
    sessions = session_factory(reading_engine(engine))  # in autocommit, as requests read
    async with sessions() as session:
        accounts = (await session.execute(text("SELECT id FROM accounts ORDER BY id"))).all()
        compared = rows = 0
        for (account_id,) in accounts:
            principal, _ = await people.principal_for(session, account_id, NOW)
            if principal is None:
                continue
            reads = _account_reads(principal)
            alone, joined = await _both(session, reads)
            assert joined == alone, account_id
            # And each in a pair with another: a combination of its own, its own SQL.
            pair = await together.rows_together(session, [reads[-1], reads[0]])
            assert pair is not None
            assert [_rows(part) for part in pair] == [alone[-1], alone[0]]
            compared += len(reads)
            rows += sum(len(part[1]) for part in alone)
    assert compared > 100
    assert rows > 100  # the comparison saw rows, not only empty lists


KINDS = Table(
    "together_kinds",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("grp", Integer, nullable=False),
    Column("note", String(20)),
    Column("doc", JSON),
    Column("amount", Numeric(10, 2)),  # Decimal
    Column("ratio", Numeric(10, 4, asdecimal=False)),  # float: SQLAlchemy processes it
    Column("score", Float),
    Column("big", BigInteger),
    Column("at", DateTime(timezone=True)),
    Column("day", Date),
    Column("flag", Boolean),
)

_AT = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
KIND_ROWS = [
    {
        "id": i,
        "grp": i % 3,  # ties: the order below is by grp alone
        "note": None if i % 4 == 0 else f"note {i}",
        "doc": None if i % 5 == 0 else {"i": i, "tags": ["a", "b"], "nested": {"n": None}},
        "amount": None if i % 6 == 0 else Decimal(i) / 4,
        "ratio": None if i % 7 == 0 else Decimal(i) / 8,
        "score": i / 3,
        "big": 2**40 + i,
        "at": None if i % 2 else _AT + timedelta(hours=i),
        "day": date(2026, 1, 1) + timedelta(days=i),
        "flag": None if i % 3 == 0 else bool(i % 2),
    }
    for i in range(1, 25)
]


@pytest.fixture
async def kinds(engine: AsyncEngine) -> AsyncIterator[None]:
    async with engine.begin() as connection:
        await connection.run_sync(KINDS.metadata.create_all)
        await connection.execute(KINDS.insert(), KIND_ROWS)
    yield
    async with engine.begin() as connection:
        await connection.run_sync(KINDS.metadata.drop_all)


async def test_every_kind_of_column_empty_lists_and_ties_read_together_as_alone(
    engine: AsyncEngine, kinds: None
) -> None:
    t = KINDS.c
    every = select(*KINDS.c).where(t.id <= bindparam("top", type_=Integer)).order_by(t.id)
    ties = select(t.grp, t.id, t.doc, t.amount).order_by(t.grp)
    computed = select(
        t.id,
        func.coalesce(t.note, "none").label("note"),
        (t.amount * 2).label("twice"),  # numeric
        func.sum(t.big).over(order_by=t.id).label("running"),  # numeric from bigint
        literal(None, type_=String).label("nothing"),
    ).order_by(t.id.desc())
    nothing = select(*KINDS.c).where(false()).order_by(t.id)
    one_column = select(t.doc).order_by(t.id)
    reads: Reads = [
        (every, {"top": 100}),
        (ties, {}),
        (computed, {}),
        (nothing, {}),
        (one_column, {}),
        (every, {"top": 0}),  # the same statement twice, with other values: no rows
    ]
    sessions = session_factory(reading_engine(engine))
    async with sessions() as session:
        alone, joined = await _both(session, reads)
        parts = await together.rows_together(session, reads)
    assert parts is not None
    assert joined[0] == alone[0]
    assert len(parts[0]) == len(KIND_ROWS)
    assert parts[0][1] == tuple(_expected(KIND_ROWS[1]))
    assert joined[2:] == alone[2:]
    assert parts[3] == []
    assert parts[5] == []
    # Rows tied in the order have no order of their own, alone or together: the same
    # rows, each group in its place.
    assert [row[0] for row in parts[1]] == sorted(i % 3 for i in range(1, 25))
    assert sorted(map(repr, joined[1][1])) == sorted(map(repr, alone[1][1]))


def _expected(row: dict[str, Any]) -> list[Any]:
    values = [row[column.name] for column in KINDS.c]
    values[KINDS.c.keys().index("ratio")] = (
        float(row["ratio"]) if row["ratio"] is not None else None
    )
    return values


async def test_a_statement_that_cannot_be_a_part_is_not_combined(engine: AsyncEngine) -> None:
    """An expanding IN (its SQL made at each execution) is no statement for `raw.rows`:
    `rows_together` says so (None), the caller runs each read on its own."""
    t = KINDS.c
    expanding = select(t.id).where(t.id.in_(bindparam("ids", expanding=True)))
    sessions = session_factory(reading_engine(engine))
    async with sessions() as session:
        found = await together.rows_together(
            session, [(expanding, {"ids": [1]}), (select(literal(1)), {})]
        )
    assert found is None


# The request's batches -----------------------------------------------------------------


ARRAY_OF_INT = ARRAY(Integer)
_KEYS = func.unnest(bindparam("keys", type_=ARRAY_OF_INT)).table_valued("key").render_derived()
# each key and its square; 0 divides by zero (the statement fails)
_KEY = _KEYS.c.key
SQUARES = select(_KEY, _KEY * _KEY * (_KEY // _KEY)).order_by(_KEY)


def _squares(rows: Sequence[Sequence[Any]]) -> dict[int, int]:
    return {key: square for key, square in rows}


class Squares(SessionLoader[int, int]):
    """Each key's square read from PostgreSQL, as a plan of one statement."""

    def plan(self, keys: Sequence[int], dialect: str) -> Plan[int, int]:
        def found(outcomes: list[dict[int, int]]) -> dict[int, int]:
            return outcomes[0]

        return Plan([Read(SQUARES, {"keys": list(keys)}, _squares)], found)


class Cubes(SessionLoader[int, int]):
    def plan(self, keys: Sequence[int], dialect: str) -> Plan[int, int]:
        def found(outcomes: list[dict[int, int]]) -> dict[int, int]:
            return {key: square * key for key, square in outcomes[0].items()}

        return Plan([Read(SQUARES, {"keys": list(keys)}, _squares)], found)


@pytest.fixture
async def request_session(engine: AsyncEngine) -> AsyncIterator[tuple[RequestSession, list[str]]]:
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    request = RequestSession(session_factory(reading_engine(engine)), shared=True)
    try:
        yield request, sent
    finally:
        await request.close()
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def test_batches_waiting_together_are_one_statement(
    request_session: tuple[RequestSession, list[str]],
) -> None:
    request, sent = request_session
    squares, cubes = Squares(request), Cubes(request)
    found = await asyncio.gather(squares.get(2), squares.get(3), cubes.get(2), cubes.get(4))
    assert list(found) == [4, 9, 8, 64]
    assert len(sent) == 1
    assert "array_agg(" in sent[0]
    # A batch alone: its own statement, as before.
    assert await squares.get(5) == 25
    assert len(sent) == 2
    assert "array_agg(" not in sent[1]


async def test_a_failing_combined_statement_leaves_each_batch_its_own_outcome(
    request_session: tuple[RequestSession, list[str]],
) -> None:
    """Key 0 divides by zero: the combined statement fails, then each batch runs on its
    own, as it would have: the squares fail with SQLAlchemy's typed error (the message no
    client sees: the error codes map it), their keys uncached; the cubes are found."""
    request, sent = request_session
    squares, cubes = Squares(request), Cubes(request)
    found = await asyncio.gather(
        squares.get(0), squares.get(3), cubes.get(2), return_exceptions=True
    )
    assert isinstance(found[0], sa_exc.DBAPIError)
    assert found[0] is found[1]
    assert "division by zero" in str(found[0])
    assert found[2] == 8
    assert await squares.get(3) == 9  # not cached: asked again, read again
    assert "array_agg(" in sent[0]  # tried together first
    assert len(sent) >= 4
