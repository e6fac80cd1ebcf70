"""Several reads of one request in one PostgreSQL statement (loaders/base.py RequestSession).

A request's list reads are dispatched together (a dashboard's appointments, results,
threads and statements) and each cost a round trip of its own: asyncpg's execute path, a
wake-up of the event loop, the read. Run together they are one statement returning one
row, each read's rows in it column by column:

    SELECT part_0.c0, part_0.c1, …, part_0.ord, part_1.c0, …
    FROM (SELECT array_agg(q.c0) AS c0, array_agg(q.c1) AS c1, …, array_agg(q.ord) AS ord
          FROM (SELECT <read 1's columns AS c0, c1, …>,
                       row_number() OVER (<read 1's ORDER BY>) AS ord
                FROM … WHERE …) AS q) AS part_0
    JOIN (… read 2 …) AS part_1 ON true …

Why columns of arrays: an array of one type is decoded by asyncpg with that type's codec,
looked up once per array, each element as the value of a row would be (binary: a timestamp
a datetime, a numeric a Decimal, JSON by the codec SQLAlchemy installs), and
`zip(*columns)` makes the rows (tuples) in C. Arrays of anonymous records (`ARRAY(SELECT
row(…))`, tried first) are decoded field by field with a codec lookup each: 75 % more
client CPU per row than the rows alone, which ate the round trips saved; one UNION ALL of
every read's columns side by side (NULLs elsewhere) was wider on the wire and had result
processors over every column: worse than the statements one by one.

Order: `ord` numbers a read's rows in its own ORDER BY (unique, so ties too get one order);
the aggregates of one query level take the same rows in one pass, so its arrays stay
aligned row for row; the rows are put in `ord` order here if they did not arrive in it (a
sort per column, `array_agg(c ORDER BY ord)`, cost PostgreSQL 15 one sort per column: +0.3
ms a dashboard). A read without rows is NULL arrays: an empty list. The result processors
`persistence.raw.rows` applies to a read's columns (learned from the read's own column
types, `raw.result_processors`) are applied to its columns here. Each read's parameters
are renamed apart (`paging.prefixed`: `part0_page_parents`, `part1_page_parents`, …); the
combined statement is built and compiled once per combination of reads (their statements
are built once per process, see paging.py) and run by `raw.rows` (asyncpg's prepared
statement, its failures SQLAlchemy's typed ones, statement listeners told once).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.sqltypes import NullType

from persistence import raw
from persistence.paging import prefixed

# Tests turn it off to compare with the reads run one by one.
ENABLED = True

Read = tuple[Select[Any], Mapping[str, Any]]  # a statement and its values
Processors = tuple[Callable[[Any], Any] | None, ...] | None


@dataclass(slots=True)
class _Together:
    statements: tuple[Select[Any], ...]  # held: the cache is keyed by their ids
    statement: Select[Any]  # the combined one
    prefixes: tuple[str, ...]
    slices: tuple[tuple[int, int], ...]  # each read's columns in the combined row
    # SQLAlchemy's result processors of each read's columns, once learned (`_processors`)
    processors: list[Processors] | None = None


# (ids of the reads' statements) -> their combined statement, or None: not to be combined.
_TOGETHER: dict[tuple[int, ...], _Together | None] = {}
_MAX_TOGETHER = 256


async def rows_together(
    session: AsyncSession, reads: Sequence[Read]
) -> list[Sequence[Sequence[Any]]] | None:
    """The rows of each read, in one statement on `session`'s connection: what
    `raw.rows(session, statement, values)` returns for each (tuples). None: they cannot be
    run together here (not PostgreSQL read by asyncpg itself, or a statement that cannot be
    a part): the caller runs each on its own."""
    if not ENABLED:
        return None
    statements = tuple(statement for statement, _ in reads)
    together = _together(statements, session)
    if together is None:
        return None
    processors = together.processors
    if processors is None:
        processors = await _processors(session, together)
        if processors is None:
            return None
    values: dict[str, Any] = {}
    for prefix, (_, given) in zip(together.prefixes, reads, strict=True):
        for name, value in given.items():
            values[prefix + name] = value
    [record] = await raw.rows(session, together.statement, values)
    parts: list[Sequence[Sequence[Any]]] = []
    for (start, end), processing in zip(together.slices, processors, strict=True):
        ords = record[end]
        if ords is None:  # no rows: array_agg of none is NULL
            parts.append([])
            continue
        columns = record[start:end]
        if processing is not None:
            columns = [
                column if p is None else [None if v is None else p(v) for v in column]
                for column, p in zip(columns, processing, strict=True)
            ]
        rows = list(zip(*columns, strict=True))
        if ords != sorted(ords):  # in the read's order (ord: its rows numbered in it)
            rows = [row for _, row in sorted(zip(ords, rows, strict=True))]
        parts.append(rows)
    return parts


def _together(statements: tuple[Select[Any], ...], session: AsyncSession) -> _Together | None:
    key = tuple(map(id, statements))
    if key in _TOGETHER:
        found = _TOGETHER[key]
        if found is None or all(a is b for a, b in zip(found.statements, statements, strict=True)):
            return found
    bind = session.bind
    if bind is None or bind.dialect.name != "postgresql" or not raw.ENABLED:
        return None
    if len(_TOGETHER) >= _MAX_TOGETHER:
        _TOGETHER.clear()
    made = _TOGETHER[key] = combined(statements, bind.dialect)
    return made


def combined(statements: Sequence[Select[Any]], dialect: Any) -> _Together | None:
    """The one statement of `statements` (None: one of them cannot be a part: a LIMIT,
    OFFSET or DISTINCT of its own (numbering its rows would come before them), its copy
    with parameters renamed not the same SQL, or a parameter no read gives)."""
    prefixes = tuple(f"part{i}_" for i in range(len(statements)))
    parts = []
    slices = []
    at = 0
    for i, (statement, prefix) in enumerate(zip(statements, prefixes, strict=True)):
        if statement._limit_clause is not None or statement._offset_clause is not None:
            return None
        if statement._distinct or statement._distinct_on:
            return None
        renamed = prefixed(statement, prefix)
        if not _same(statement, renamed, prefix, dialect):
            return None
        columns = list(renamed.selected_columns)
        numbered = (
            renamed.with_only_columns(
                *(column.label(f"c{j}") for j, column in enumerate(columns)),
                func.row_number().over(order_by=renamed._order_by_clauses).label("ord"),
                maintain_column_froms=True,
            )
            .order_by(None)
            .subquery(f"rows_{i}")
        )
        arrays = [
            func.array_agg(numbered.c[f"c{j}"], type_=NullType()).label(f"c{j}")
            for j in range(len(columns))
        ]
        arrays.append(func.array_agg(numbered.c.ord, type_=NullType()).label("ord"))
        parts.append(select(*arrays).select_from(numbered).subquery(f"part_{i}"))
        slices.append((at, at + len(columns)))
        at += len(columns) + 1  # and its `ord`
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.join(part, true())  # type: ignore[assignment]
    together = select(*(column for part in parts for column in part.c)).select_from(joined)
    compiled = together.compile(dialect=dialect)
    for name, bind in compiled.binds.items():
        if bind.required and not name.startswith(prefixes):
            return None  # a parameter no read gives
    return _Together(tuple(statements), together, prefixes, tuple(slices))


def _same(statement: Select[Any], renamed: Select[Any], prefix: str, dialect: Any) -> bool:
    """Whether `renamed` is `statement` but for its parameters' names (each `prefix` +
    the original's, in the same places)."""
    before = statement.compile(dialect=dialect)
    after = renamed.compile(dialect=dialect)
    binds = before.binds
    names = [name if binds[name].unique else prefix + name for name in before.positiontup or ()]
    return before.string == after.string and names == list(after.positiontup or ())


async def _processors(session: AsyncSession, together: _Together) -> list[Processors] | None:
    processors = []
    for statement in together.statements:
        found = await raw.result_processors(session, statement)
        if found is None:
            return None
        processors.append(found[0])
    together.processors = processors
    return processors
