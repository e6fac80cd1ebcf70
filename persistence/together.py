"""Several reads of one request in one PostgreSQL statement (loaders/base.py RequestSession).

A request's list reads are dispatched together (a dashboard's appointments, results,
threads and statements) and each cost a round trip of its own: asyncpg's execute path, a
wake-up of the event loop, the read. Run together they are one statement,

    SELECT ARRAY(SELECT row(<read 1's columns>) FROM … WHERE … ORDER BY …) AS part_0,
           ARRAY(SELECT row(<read 2's columns>) FROM … ORDER BY …) AS part_1, …

one row whose column i holds read i's rows, each an anonymous record. asyncpg decodes a
record field by field by the type PostgreSQL gives each (binary: a timestamp is a datetime,
a numeric a Decimal, JSON by the codec SQLAlchemy installs), so a part's rows are the values
the read alone returns, as tuples; the result processors `persistence.raw.rows` would apply
to the read's columns are applied to them (`raw.result_processors`).

Order: `ARRAY(subquery)` holds the subquery's rows in the order it returns them, and each
read's ORDER BY stays its subquery's own, at its top level (the select list alone becomes
`row(…)`): the rows come as ordered as the read alone. A read without rows is an empty
array. Each read's parameters are renamed apart (`paging.prefixed`: `part0_page_parents`,
`part1_page_parents`, …); the combined statement is built and compiled once per
combination of reads (their statements are built once per process, see paging.py) and run
by `raw.rows` (asyncpg's prepared statement, its failures SQLAlchemy's typed ones, statement
listeners told once).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.sql.visitors import InternalTraversal

from persistence import raw
from persistence.paging import prefixed

# Tests turn it off to compare with the reads run one by one.
ENABLED = True

Read = tuple[Select[Any], Mapping[str, Any]]  # a statement and its values
Processors = tuple[Callable[[Any], Any] | None, ...] | None


class _Rows(ColumnElement[Any]):
    """`ARRAY(<select>)`: the rows of a select of one column, as an array."""

    inherit_cache = True
    type = NullType()  # no result processor: the records are decoded by asyncpg
    _traverse_internals = [("select", InternalTraversal.dp_clauseelement)]

    def __init__(self, select: Select[Any]) -> None:
        self.select = select


@compiles(_Rows, "postgresql")
def _array_of(element: _Rows, compiler: SQLCompiler, **kw: Any) -> str:
    kw.pop("asfrom", None)
    return f"ARRAY({compiler.process(element.select, **kw)})"


@dataclass(slots=True)
class _Together:
    statements: tuple[Select[Any], ...]  # held: the cache is keyed by their ids
    statement: Select[Any]  # the combined one
    prefixes: tuple[str, ...]
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
    for part, processing in zip(record, processors, strict=True):
        if processing is None:
            parts.append(part)
        else:
            parts.append(
                [
                    tuple(v if p is None else p(v) for v, p in zip(row, processing, strict=True))
                    for row in part
                ]
            )
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
    """The one statement of `statements` (None: one of them cannot be a part: its copy
    with parameters renamed is not the same SQL, or it needs a parameter not renamed)."""
    prefixes = tuple(f"part{i}_" for i in range(len(statements)))
    parts = []
    for i, (statement, prefix) in enumerate(zip(statements, prefixes, strict=True)):
        renamed = prefixed(statement, prefix)
        if not _same(statement, renamed, prefix, dialect):
            return None
        one = renamed.with_only_columns(
            func.row(*renamed.selected_columns), maintain_column_froms=True
        )
        parts.append(_Rows(one).label(f"part_{i}"))
    together = select(*parts)
    compiled = together.compile(dialect=dialect)
    for name, bind in compiled.binds.items():
        if bind.required and not name.startswith(prefixes):
            return None  # a parameter no read gives
    return _Together(tuple(statements), together, prefixes)


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
