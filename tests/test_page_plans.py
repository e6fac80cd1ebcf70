"""PostgreSQL's work for the pages of "latest N per parent" lists (persistence/paging.py
`_lateral_rows`), read from the plans it runs (EXPLAIN ANALYZE): a labelled column of the
listed row (a correlated subquery: a result's held kinds, a statement's payments) is
computed once per listed row, not once per row of the list joined to it (a result's
components, a statement's lines); one reading another table is refused. And a result's
own columns come on its first row only (its other components' rows have them NULL), for
the same pages. PostgreSQL's: skipped without TEST_DATABASE_URL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from domain.access import PatientGrant
from domain.paging import Page
from domain.scopes import RecordArea
from persistence import models as m
from persistence import raw
from persistence.db import create_engine, reading_engine, session_factory
from persistence.paging import RowPages, row_pages
from persistence.queries import billing, people, results
from tests.conftest import NOW, Database

# `database`: a seeded PostgreSQL database of this module's own (test_raw_rows' fixture)
from tests.test_raw_rows import database, driver_of, grants_of  # noqa: F401


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:  # noqa: F811
    engine = create_engine(database.url)
    yield engine
    await engine.dispose()


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


async def _plan(session: AsyncSession, read: RowPages[Any]) -> tuple[dict[str, Any], int]:
    """The plan PostgreSQL ran `read` with (a generic plan, as every request's connection
    has them) and how many rows it returned."""
    dialect = session.get_bind().dialect
    compiled = raw._compile(read.statement, dialect)
    assert compiled is not None
    arguments = []
    for parameter in compiled.parameters:
        value = read.values.get(parameter.name, parameter.constant)
        arguments.append(value if parameter.process is None else parameter.process(value))
    driver = await driver_of(session)
    explained = await driver.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled.sql}", *arguments)
    [top] = json.loads(explained) if isinstance(explained, str) else explained
    return top["Plan"], top["Plan"]["Actual Rows"]


def _subplan_runs(plan: dict[str, Any]) -> int:
    return sum(
        node["Actual Loops"]
        for node in _nodes(plan)
        if node.get("Parent Relationship") == "SubPlan"
    )


async def _most_joined(session: AsyncSession, sql: str) -> str:
    """The account whose patient has the most joined rows (`sql`: its count per account)."""
    row = (await session.execute(text(sql))).first()
    assert row is not None
    return str(row[0])


Reading = tuple[RecordArea, Callable[[list[PatientGrant]], RowPages[Any]], str]
READS: dict[str, Reading] = {
    # a result's held kinds, beside its components
    "results": (
        RecordArea.RESULTS,
        lambda grants: results.result_read("postgresql", grants, Page(10)),
        """SELECT a.id FROM accounts a JOIN results r ON r.patient_id = a.patient_id
           JOIN result_components c ON c.result_id = r.id
           GROUP BY a.id ORDER BY count(*) DESC, a.id LIMIT 1""",
    ),
    # a statement's payments, beside its lines
    "statements": (
        RecordArea.BILLING,
        lambda grants: billing.statement_read("postgresql", grants, Page(10)),
        """SELECT a.id FROM accounts a JOIN statements s ON s.guarantor_patient_id = a.patient_id
           JOIN statement_line_items l ON l.statement_id = s.id
           GROUP BY a.id ORDER BY count(*) DESC, a.id LIMIT 1""",
    ),
}


@pytest.mark.parametrize("name", READS)
async def test_a_listed_rows_own_subquery_runs_once_per_listed_row(
    engine: AsyncEngine, name: str
) -> None:
    area, read_of, most = READS[name]
    async with session_factory(reading_engine(engine))() as session:
        account_id = await _most_joined(session, most)
        principal, _ = await people.principal_for(session, account_id, NOW)
        assert principal is not None
        read = read_of(grants_of(principal, area))
        rows = await raw.rows(session, read.statement, read.values)
        listed = len({row[0] for row in rows})
        assert len(rows) > listed > 1  # the joined list repeats each listed row
        plan, returned = await _plan(session, read)
        assert returned == len(rows)
        assert _subplan_runs(plan) == listed


def test_a_labelled_column_reading_another_table_is_refused() -> None:
    """Computed in the LATERAL, it would join that table to every listed row."""
    r, rc = m.Result.__table__, m.ResultComponent.__table__
    with pytest.raises(ValueError, match="labelled column"):
        row_pages(
            "postgresql",
            lambda: select(r),
            r.c.patient_id,
            ["pat-1"],
            results.RESULT_SORT,
            Page(3),
            shape="a labelled column of another table",
            columns=[r.c.id, rc.c.name.label("component_name")],
            make=tuple,
        )


async def test_a_results_columns_come_on_its_first_row_only_and_make_the_same_pages(
    engine: AsyncEngine,
) -> None:
    """With its components collected (`Children`), a result's own columns are sent on its
    first row alone (NULL on its other components' rows): the same pages, the same
    components, as the read that repeats them on every row."""
    _, _, most = READS["results"]
    async with session_factory(reading_engine(engine))() as session:
        account_id = await _most_joined(session, most)
        principal, _ = await people.principal_for(session, account_id, NOW)
        assert principal is not None
        grants = grants_of(principal, RecordArea.RESULTS)
        components = results.components()
        read = results.result_read("postgresql", grants, Page(10), with_components=components)
        rows = await raw.rows(session, read.statement, read.values)
        at = components.at
        firsts = [i for i, row in enumerate(rows) if i == 0 or row[0] != rows[i - 1][0]]
        later = [row for i, row in enumerate(rows) if i not in firsts]
        assert later, "some result has several components"
        assert all(value is None for row in later for value in row[1:at])
        assert all(rows[i][1] is not None for i in firsts)  # its patient, on its first row
        repeated = results.result_read("postgresql", grants, Page(10))
        again = await raw.rows(session, repeated.statement, repeated.values)
        assert [row[0] for row in again] == [row[0] for row in rows]
        assert [tuple(row[at:]) for row in again] == [tuple(row[at:]) for row in rows]
        assert read.pages(rows) == repeated.pages(again)
        assert components.of
        assert all(
            [tuple(c) for c in components.of[r[0]]]
            == [tuple(row[at:]) for row in again if row[0] == r[0] and row[at] is not None]
            for r in again
        )
