"""The read path's Core selects run by asyncpg itself, on the session's own connection.

Through `session.execute(...).all()` one of the home screens' statements cost 0.4-0.65 ms
of CPU here, the same SQL on the asyncpg connection 0.12-0.23 ms: SQLAlchemy's execution
context, its DBAPI cursor adapter (and greenlet hop), result metadata and a Row per row,
each execution. `rows` compiles a statement once per process for the asyncpg dialect (its
SQL with `$n` placeholders, the order of its parameters, the values it carries itself and
SQLAlchemy's bind processors of each) and runs it with `Connection.fetch`, asyncpg's own
prepared-statement cache. It returns asyncpg's Records, which index and slice as Rows do
(`row[0]`, `row[2:9]`, unpacking); not by attribute (`row.name`): callers read by position.

Only where it is the same: PostgreSQL, a connection in autocommit (the requests' reads,
loaders/base.py RequestSession), a statement without expanding or literal-rendered
parameters; everything else goes through SQLAlchemy as before (SQLite always). Results:
asyncpg decodes every type these statements read as SQLAlchemy would (timestamps with time
zone as aware UTC, JSON by the codec SQLAlchemy installs on each connection); a column whose
type still has a result processor on asyncpg has it applied (none of the home screens'
statements, tests/test_raw_rows.py compares both ways column by column).

Failures stay SQLAlchemy's: a statement that fails on the driver is run once more through
`session.execute`, which meets the same failure and does what it always does (its typed
exceptions; a connection the server dropped invalidated, the pool's older ones with it, so
`persistence.db.database_unavailable` and the pool's recovery work as before). A statement
cancelled mid-way invalidates the connection, as SQLAlchemy does. Listeners of
`before_cursor_execute` are told each statement (no cursor or execution context), so
statement counts (the N+1 test, the benches) still see them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler

from domain.errors import BrokenInvariant

# Tests turn it off to compare with SQLAlchemy's own results.
ENABLED = True

_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class _Parameter:
    name: str
    constant: Any  # the value the statement carries itself, or _MISSING: given at execution
    process: Callable[[Any], Any] | None  # SQLAlchemy's bind processor of its type


@dataclass(slots=True)
class _Compiled:
    statement: Select[Any]  # held: the cache is keyed by its id
    sql: str
    parameters: tuple[_Parameter, ...]
    # Result processors by column (None: none has one), known at the first execution,
    # from the types PostgreSQL says the columns have.
    results: tuple[Callable[[Any], Any] | None, ...] | None = None
    described: bool = False


# id(statement) -> its compiled form, or None where it must go through SQLAlchemy. The
# statements are the module-level and `paging` ones, built once per process: a few dozen.
# (Bounded all the same, should a caller build its statement at every call.)
_COMPILED: dict[int, _Compiled | None] = {}
_MAX_COMPILED = 1_000


def compiled_sql(statement: Select[Any], dialect: Dialect) -> str | None:
    """The SQL `rows` sends for `statement` (None: it goes through SQLAlchemy)."""
    compiled = _compile(statement, dialect)
    return None if compiled is None else compiled.sql


def _compile(statement: Select[Any], dialect: Dialect) -> _Compiled | None:
    key = id(statement)
    if key in _COMPILED:
        found = _COMPILED[key]
        if found is None or found.statement is statement:
            return found
    if len(_COMPILED) >= _MAX_COMPILED:
        _COMPILED.clear()
    compiled = statement.compile(dialect=dialect)
    result: _Compiled | None = None
    if _plain(compiled):
        sql: str = compiled.string
        names: Sequence[str] = compiled.positiontup or []
        if compiled.literal_execute_params:
            # Values the statement carries itself rendered in its SQL (aggregate_strings'
            # separator), as SQLAlchemy renders them at each execution.
            given = {name: None for name, bind in compiled.binds.items() if bind.required}
            expanded = compiled.construct_expanded_state(given)
            sql, names = expanded.statement, expanded.positiontup or []
        parameters = []
        for name in names:
            bind = compiled.binds[name]
            constant = _MISSING if bind.required or bind.callable is not None else bind.value
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            parameters.append(_Parameter(name, constant, process))
        result = _Compiled(statement, sql, tuple(parameters))
    _COMPILED[key] = result
    return result


def _plain(compiled: SQLCompiler) -> bool:
    """A statement whose SQL is the same at every execution, its parameters positional:
    no expanding IN, nothing given at execution rendered in the SQL itself."""
    return (
        compiled.positional
        and not compiled.post_compile_params
        and not any(p.required or p.callable for p in compiled.literal_execute_params)
        and not compiled.escaped_bind_names
        and not compiled.has_out_parameters
    )


@dataclass(frozen=True, slots=True)
class _Held:
    """A session's connection as `rows` uses it, kept while the session's transaction lasts
    (`session.connection()` costs a greenlet hop and a few lookups per call)."""

    transaction: Any  # the session's SessionTransaction that holds the connection
    connection: AsyncConnection
    sync: Connection
    dialect: Dialect
    driver: Any  # asyncpg's Connection; None: not in autocommit, SQLAlchemy runs it


_HELD = "persistence.raw"  # its key in `Session.info`


async def _held(session: AsyncSession) -> _Held:
    sync_session = session.sync_session
    held: _Held | None = sync_session.info.get(_HELD)
    transaction = sync_session.get_transaction()
    if (
        held is not None
        and transaction is not None
        and held.transaction is transaction
        and not held.sync.invalidated
        and not held.sync.closed
    ):
        return held
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    adapted: Any = raw.dbapi_connection  # SQLAlchemy's adapter of the asyncpg connection
    # In a transaction SQLAlchemy begins it at the first statement: it keeps doing that.
    driver = raw.driver_connection if adapted.autocommit else None
    sync = connection.sync_connection
    if sync is None:
        raise BrokenInvariant("a session handed out a closed connection")
    held = _Held(sync_session.get_transaction(), connection, sync, connection.dialect, driver)
    sync_session.info[_HELD] = held
    return held


async def rows(
    session: AsyncSession, statement: Select[Any], values: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """`(await session.execute(statement, values)).all()`, on PostgreSQL by asyncpg itself
    (see the module's doc): the rows, read by position. For statements built once (module
    level, or cached as `paging` does): each is compiled once and kept."""
    bind = session.bind
    if not ENABLED or bind is None or bind.dialect.name != "postgresql":
        return await _through_sqlalchemy(session, statement, values)
    held = await _held(session)
    driver = held.driver
    compiled = _compile(statement, held.dialect)
    if compiled is None or driver is None:
        return await _through_sqlalchemy(session, statement, values)
    arguments = []
    for parameter in compiled.parameters:
        value = values.get(parameter.name, parameter.constant)
        if value is _MISSING:  # SQLAlchemy says which, as it always has
            return await _through_sqlalchemy(session, statement, values)
        process = parameter.process
        arguments.append(value if process is None else process(value))
    sync = held.sync
    if sync.dispatch.before_cursor_execute:
        sync.dispatch.before_cursor_execute(sync, None, compiled.sql, tuple(arguments), None, False)
    try:
        if compiled.described:
            records = await driver.fetch(compiled.sql, *arguments)
        else:
            records = await _first(compiled, driver, held.dialect, arguments)
    except Exception:
        # SQLAlchemy meets the same failure and handles it as it always has (see above).
        return await _through_sqlalchemy(session, statement, values)
    except BaseException:  # cancelled: what the connection is in the middle of is unknown
        await _invalidate(held.connection)
        raise
    if records is None:  # not a statement for this path after all
        return await _through_sqlalchemy(session, statement, values)
    results = compiled.results
    if results is None:
        return records  # type: ignore[no-any-return]
    return [
        tuple(v if p is None else p(v) for v, p in zip(record, results, strict=True))
        for record in records
    ]


async def _through_sqlalchemy(
    session: AsyncSession, statement: Select[Any], values: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    result: Sequence[Sequence[Any]] = (await session.execute(statement, values)).all()
    return result


async def _first(
    compiled: _Compiled, driver: Any, dialect: Dialect, arguments: list[Any]
) -> list[Any] | None:
    """The first execution in this process: prepared, to learn the columns' types (None:
    they are not the statement's selected columns one for one; SQLAlchemy keeps it)."""
    prepared = await driver.prepare(compiled.sql)
    oids = [attribute.type.oid for attribute in prepared.get_attributes()]
    columns = list(compiled.statement.selected_columns)
    if len(columns) != len(oids):
        _COMPILED[id(compiled.statement)] = None
        return None
    processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, oid)
        for column, oid in zip(columns, oids, strict=True)
    )
    compiled.results = processors if any(p is not None for p in processors) else None
    compiled.described = True
    records: list[Any] = await prepared.fetch(*arguments)
    return records


async def _invalidate(connection: AsyncConnection) -> None:
    if not connection.invalidated:
        await connection.invalidate()
