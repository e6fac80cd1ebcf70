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
parameters; everything else goes through SQLAlchemy as before. (SQLite: see below, the
same statements run by aiosqlite in one handoff to its thread.) Results:
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

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.pool import PoolProxiedConnection
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


def compiled_sql(
    statement: Select[Any], dialect: Dialect, lists: Mapping[str, int] | None = None
) -> str | None:
    """The SQL `rows` sends for `statement` (None: it goes through SQLAlchemy); on SQLite
    for lists of the lengths `lists` gives by name (none: empty)."""
    if dialect.name == "sqlite":
        lite = _lite(statement, dialect)
        if lite is None:
            return None
        lengths = tuple((lists or {}).get(name, 0) for name, _ in lite.lists)
        return (lite.forms.get(lengths) or _form(lite, lengths)).sql
    compiled = _compile(statement, dialect)
    return None if compiled is None else compiled.sql


class _Kept(Protocol):
    statement: Select[Any]  # held: a cache of these is keyed by its id


K = TypeVar("K", bound=_Kept)


def _kept(
    cache: dict[int, K | None], statement: Select[Any], make: Callable[[], K | None]
) -> K | None:
    """`make()`'s form of `statement`, once per statement (`cache`, by its id; an entry
    holds its statement, so the id is not another's while it is kept; bounded)."""
    key = id(statement)
    if key in cache:
        found = cache[key]
        if found is None or found.statement is statement:
            return found
    if len(cache) >= _MAX_COMPILED:
        cache.clear()
    cache[key] = made = make()
    return made


def _compile(statement: Select[Any], dialect: Dialect) -> _Compiled | None:
    return _kept(_COMPILED, statement, lambda: _compiled_form(statement, dialect))


def _compiled_form(statement: Select[Any], dialect: Dialect) -> _Compiled | None:
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

    # The session's SessionTransaction that holds the connection, by weak reference (a
    # strong one closed a cycle, Session.info -> _Held -> transaction -> Session: every
    # session `rows` ran on, its connection's objects and its statements' parameters, some
    # 45 objects, waited for the garbage collector instead of going when the session
    # closed); or _BOUND.
    transaction: Any
    connection: AsyncConnection
    sync: Connection
    dialect: Dialect
    # asyncpg's Connection (None: not in autocommit, SQLAlchemy runs it); aiosqlite's
    adapted: Any  # SQLAlchemy's adapter of it (DBAPI connection)
    driver: Any


_HELD = "persistence.raw"  # its key in `Session.info`
# `_Held.transaction` of a session bound to one connection for its whole life (`bound`):
# its connection is that one whatever the session's transaction.
_BOUND: Any = object()


def _gone() -> None:
    """A dead reference: no transaction to match."""


async def bound(session: AsyncSession, connection: AsyncConnection) -> None:
    """`session` (made with `bind=connection`) reads on `connection` for its whole life:
    `rows` uses it without asking the session for it (no SessionTransaction needed)."""
    await _hold(session, connection, _BOUND)


async def connection_of(session: AsyncSession) -> AsyncConnection:
    """The connection `rows` runs `session`'s statements on."""
    return (await _held(session)).connection


async def _held(session: AsyncSession) -> _Held:
    sync_session = session.sync_session
    held: _Held | None = sync_session.info.get(_HELD)
    if held is not None and not held.sync.invalidated and not held.sync.closed:
        if held.transaction is _BOUND:
            return held
        transaction = sync_session.get_transaction()
        if transaction is not None and held.transaction() is transaction:
            return held
    connection = await session.connection()
    return await _hold(session, connection, sync_session.get_transaction())


async def raw_connection(connection: AsyncConnection) -> PoolProxiedConnection:
    """`connection.get_raw_connection()`, without its greenlet hop when the pooled
    connection is there already (the only case where getting it does no I/O: it is not
    invalidated, so there is nothing to reconnect)."""
    sync = connection.sync_connection
    if sync is not None and not sync.invalidated and not sync.closed:
        return sync.connection
    return await connection.get_raw_connection()


async def _hold(session: AsyncSession, connection: AsyncConnection, transaction: Any) -> _Held:
    sync_session = session.sync_session
    raw = await raw_connection(connection)
    adapted: Any = raw.dbapi_connection  # SQLAlchemy's adapter of the asyncpg connection
    dialect = connection.dialect
    if dialect.name == "sqlite":
        # Python's sqlite3 begins a transaction itself (before a write, or the BEGIN of
        # loaders.base.RequestSession): a SELECT sent on the same connection is in the
        # same transaction, whoever sends it.
        driver = raw.driver_connection
    else:
        # In a transaction SQLAlchemy begins it at the first statement: it keeps doing that.
        driver = raw.driver_connection if adapted.autocommit else None
    sync = connection.sync_connection
    if sync is None:
        raise BrokenInvariant("a session handed out a closed connection")
    if transaction is not _BOUND:
        transaction = _gone if transaction is None else weakref.ref(transaction)
    held = _Held(transaction, connection, sync, dialect, adapted, driver)
    sync_session.info[_HELD] = held
    return held


async def rows(
    session: AsyncSession, statement: Select[Any], values: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """`(await session.execute(statement, values)).all()`, on PostgreSQL by asyncpg itself
    (see the module's doc): the rows, read by position. For statements built once (module
    level, or cached as `paging` does): each is compiled once and kept."""
    bind = session.bind
    if not ENABLED or bind is None:
        return await _through_sqlalchemy(session, statement, values)
    backend = bind.dialect.name
    if backend == "sqlite":
        return await _sqlite_rows(session, statement, values)
    if backend != "postgresql":
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
    if _listened(sync):
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


def _listened(sync: Connection) -> bool:
    """Whether a `before_cursor_execute` listener is to be told: SQLAlchemy's own test
    first (the flags it checks before every event), then the listeners themselves (asking
    a dispatcher for them costs more than the rest of that test: none in production)."""
    return (sync._has_events or sync.engine._has_events) and bool(
        sync.dispatch.before_cursor_execute
    )


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
    if not _describe(compiled, prepared, dialect):
        return None
    records: list[Any] = await prepared.fetch(*arguments)
    return records


def _describe(compiled: _Compiled, prepared: Any, dialect: Dialect) -> bool:
    """`compiled`'s result processors from the column types of its prepared statement
    (False, and never run by `rows` again: its rows are not its selected columns)."""
    oids = [attribute.type.oid for attribute in prepared.get_attributes()]
    columns = list(compiled.statement.selected_columns)
    if len(columns) != len(oids):
        _COMPILED[id(compiled.statement)] = None
        return False
    processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, oid)
        for column, oid in zip(columns, oids, strict=True)
    )
    compiled.results = processors if any(p is not None for p in processors) else None
    compiled.described = True
    return True


async def result_processors(
    session: AsyncSession, statement: Select[Any]
) -> tuple[tuple[Callable[[Any], Any] | None, ...] | None] | None:
    """What `rows` applies to each row of `statement` on `session`'s connection, in a
    1-tuple: the processors by column, or None when none has one (the statement prepared
    once per process to learn its column types, as `rows` does at its first execution).
    None: `rows` would not run it itself (not asyncpg in autocommit, or not a plain
    statement). For `persistence.together`, whose rows of a statement come as columns."""
    bind = session.bind
    if not ENABLED or bind is None or bind.dialect.name != "postgresql":
        return None
    held = await _held(session)
    compiled = _compile(statement, held.dialect)
    if compiled is None or held.driver is None:
        return None
    if not compiled.described:
        prepared = await held.driver.prepare(compiled.sql)
        if not _describe(compiled, prepared, held.dialect):
            return None
    return (compiled.results,)


async def _invalidate(connection: AsyncConnection) -> None:
    if not connection.invalidated:
        await connection.invalidate()


# SQLite ------------------------------------------------------------------------------------
#
# SQLAlchemy's aiosqlite adapter runs a statement in four handoffs to aiosqlite's thread,
# each a wake-up of the event loop (cursor, execute, fetchall, close); aiosqlite's
# `execute_fetchall` runs it in one, on the session's own connection and so in its
# transaction (the request's read snapshot, or a unit of work's writes not committed yet:
# seen, as through SQLAlchemy). One-of lists (`persistence.paging.one_of`) are expanding
# IN lists on SQLite: their SQL has one `?` per element, so a statement has one form per
# length of its lists, each rendered by SQLAlchemy once and kept. SQLite stores datetimes,
# numerics, booleans and JSON as text and numbers: SQLAlchemy's result processors of the
# statement's columns make them what SQLAlchemy returns (tests/test_raw_rows_sqlite.py).
# Same fallbacks as above: a session holding unflushed changes that it flushes before a
# statement, a parameter missing or a statement failing go through `session.execute`; a
# cancelled statement invalidates the connection, as SQLAlchemy does.


@dataclass(frozen=True, slots=True)
class _Mark:
    """Where a positional parameter's value comes from: the value given as `name`, or the
    element `index` of that list (an expanding parameter)."""

    name: str
    index: int | None


@dataclass(frozen=True, slots=True)
class _Slot:
    name: str
    index: int | None  # an element of the list given as `name`; None: the value itself
    constant: Any  # the value the statement carries itself, or _MISSING
    process: Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Form:
    sql: str
    slots: tuple[_Slot, ...]


@dataclass(slots=True)
class _Lite:
    statement: Select[Any]  # held: the cache is keyed by its id
    compiled: SQLCompiler
    lists: tuple[tuple[str, Any], ...]  # the expanding parameters: name, constant or _MISSING
    literal: frozenset[str]  # constants rendered in the SQL: not to be given at execution
    results: tuple[Callable[[Any], Any] | None, ...] | None  # SQLAlchemy's, by column
    forms: dict[tuple[int, ...], _Form]  # by the lengths of `lists`' values


_LITE: dict[int, _Lite | None] = {}
_MAX_FORMS = 256  # per statement (lengths of lists: the patients of an account, ids)


def _lite(statement: Select[Any], dialect: Dialect) -> _Lite | None:
    return _kept(_LITE, statement, lambda: _lite_form(statement, dialect))


def _lite_form(statement: Select[Any], dialect: Dialect) -> _Lite | None:
    compiled = statement.compile(dialect=dialect)
    plain = _lite_plain(compiled, len(statement.selected_columns))
    return _lite_of(statement, compiled, dialect) if plain else None


def _lite_plain(compiled: SQLCompiler, columns: int) -> bool:
    """Positional, its parameters given by name; SQL rendered at execution only for
    expanding lists of one column and constants; rows with the statement's columns in
    order."""
    literal = compiled.literal_execute_params
    return (
        compiled.positional
        and not compiled._numeric_binds
        and not compiled.escaped_bind_names
        and not compiled.has_out_parameters
        and not any(p.required or p.callable for p in literal)
        and all(
            p.expanding and not p.literal_execute and not p.type._is_tuple_type
            for p in compiled.post_compile_params
        )
        and compiled._ordered_columns
        and not compiled._textual_ordered_columns
        and len(compiled._result_columns) == columns
    )


def _lite_of(statement: Select[Any], compiled: SQLCompiler, dialect: Dialect) -> _Lite:
    lists = tuple(
        (name, _constant(bind))
        for name, bind in compiled.binds.items()
        if bind in compiled.post_compile_params
    )
    literal = frozenset(
        name for name, bind in compiled.binds.items() if bind in compiled.literal_execute_params
    )
    processors = tuple(
        column.type._cached_result_processor(dialect, None) for column in compiled._result_columns
    )
    results = processors if any(p is not None for p in processors) else None
    return _Lite(statement, compiled, lists, literal, results, {})


def _constant(bind: Any) -> Any:
    return _MISSING if bind.required or bind.callable is not None else bind.value


def _form(lite: _Lite, lengths: tuple[int, ...]) -> _Form:
    """The SQL for lists of these lengths, and where each of its `?` takes its value from
    (SQLAlchemy renders it, as it would at an execution with such lists)."""
    compiled = lite.compiled
    sizes = dict(zip((name for name, _ in lite.lists), lengths, strict=True))
    given: dict[str, Any] = {}
    for name in compiled.binds:
        if name in lite.literal:
            continue  # SQLAlchemy renders the statement's own value in the SQL
        if name in sizes:
            given[name] = [_Mark(name, i) for i in range(sizes[name])]
        else:
            given[name] = _Mark(name, None)
    expanded = compiled.construct_expanded_state(given)
    binds = compiled.binds
    slots = []
    for position in expanded.positiontup or ():
        mark = expanded.parameters[position]
        if not isinstance(mark, _Mark):
            raise BrokenInvariant(f"parameter {position} not given by name")
        process = expanded.processors.get(position) or compiled._bind_processors.get(position)
        slots.append(_Slot(mark.name, mark.index, _constant(binds[mark.name]), process))  # type: ignore[arg-type]
    form = _Form(expanded.statement, tuple(slots))
    if len(lite.forms) >= _MAX_FORMS:
        lite.forms.clear()
    lite.forms[lengths] = form
    return form


def _arguments(lite: _Lite, values: Mapping[str, Any]) -> tuple[_Form, list[Any]] | None:
    """The statement's SQL for `values` and its positional parameters, processed as
    SQLAlchemy processes them (None: SQLAlchemy runs it)."""
    if lite.literal and not lite.literal.isdisjoint(values):
        return None
    lengths = []
    for name, constant in lite.lists:
        given = values.get(name, constant)
        if not isinstance(given, list | tuple):
            return None
        lengths.append(len(given))
    key = tuple(lengths)
    form = lite.forms.get(key) or _form(lite, key)
    arguments = []
    for slot in form.slots:
        value = values.get(slot.name, slot.constant)
        if value is _MISSING:  # SQLAlchemy says which, as it always has
            return None
        if slot.index is not None:
            value = value[slot.index]
        process = slot.process
        arguments.append(value if process is None else process(value))
    return form, arguments


async def _sqlite_rows(
    session: AsyncSession, statement: Select[Any], values: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """`rows` on SQLite: the statement run on the session's aiosqlite connection in one
    handoff to its thread, SQLAlchemy's bind and result processors applied."""
    sync_session = session.sync_session
    if sync_session.autoflush and not sync_session._is_clean():
        return await _through_sqlalchemy(session, statement, values)  # it flushes first
    held = await _held(session)
    lite = _lite(statement, held.dialect)
    prepared = None if lite is None else _arguments(lite, values)
    if lite is None or prepared is None:
        return await _through_sqlalchemy(session, statement, values)
    form, arguments = prepared
    sync = held.sync
    if _listened(sync):
        sync.dispatch.before_cursor_execute(sync, None, form.sql, tuple(arguments), None, False)
    try:
        # SQLAlchemy's own statements on this connection take the same lock.
        async with held.adapted._execute_mutex:
            records: list[tuple[Any, ...]] = await held.driver.execute_fetchall(form.sql, arguments)
    except Exception:
        # SQLAlchemy meets the same failure and handles it as it always has.
        return await _through_sqlalchemy(session, statement, values)
    except BaseException:  # cancelled: as SQLAlchemy does, the connection is let go
        await _invalidate(held.connection)
        raise
    results = lite.results
    if results is None:
        return records
    return [
        tuple(v if p is None else p(v) for v, p in zip(record, results, strict=True))
        for record in records
    ]
