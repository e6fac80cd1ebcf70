"""Keyset pages of "latest N per parent" lists: one statement for any number of parents.

A page is asked for many parents at once (the DataLoader batch); the first N+1 rows of
each parent are kept (the extra row tells whether there is a next page): on PostgreSQL by
a LATERAL index walk per parent (`unnest(:parents) JOIN LATERAL (... LIMIT)`, one plan for
any parameters), elsewhere by ROW_NUMBER() over a partition per parent. A cursor is the
sort key of the last row seen, so pages stay stable while rows are added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    BindParameter,
    Boolean,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    and_,
    any_,
    bindparam,
    case,
    func,
    inspect,
    literal_column,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import KeyedColumnElement, Label
from sqlalchemy.sql.visitors import InternalTraversal, replacement_traverse

from domain.paging import (
    DEFAULT_PAGE,
    MAX_PAGE,
    BadCursor,
    Page,
    PageOf,
    decode_cursor,
    encode_cursor,
)
from persistence import raw

__all__ = [
    "DEFAULT_PAGE",
    "MAX_PAGE",
    "BadCursor",
    "Page",
    "PageOf",
    "decode_cursor",
    "encode_cursor",
]


def one_of(column: Any, name: str) -> ColumnElement[bool]:
    """`column IN (...)` with the list bound as parameter `name` at execution: for statements
    built once and run with new values (see `pages_per_parent`).

    On PostgreSQL it is `column = ANY(:name)`, the list one array parameter: the SQL is the
    same for any length (one prepared statement, nothing to render per execution: expanding
    an IN list was ~0.2 ms a statement of Python). Elsewhere (SQLite) an expanding IN."""
    clause = column.__clause_element__() if hasattr(column, "__clause_element__") else column
    return _OneOf(clause, name)


class _OneOf(ColumnElement[bool]):
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a predicate: no "= 1" after it where booleans are ints
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name


@compiles(_OneOf)
def _in_list(element: _OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    in_list = element.column.in_(bindparam(element.name, expanding=True))
    return f"({compiler.process(in_list, **kw)})"  # grouped: NOT, OR around it stay right


@compiles(_OneOf, "postgresql")
def _any_array(element: _OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    array = bindparam(element.name, type_=ARRAY(element.column.type))
    return f"({compiler.process(element.column == any_(array), **kw)})"


def _select_of(statement: Any) -> Select[Any]:
    if not isinstance(statement, Select):
        raise TypeError(f"not a select: {type(statement).__name__}")
    return statement


def prefixed(statement: Select[Any], prefix: str) -> Select[Any]:
    """A copy of `statement` whose parameters named at execution (`bindparam("x")`,
    `one_of(..., "x")`) are named `prefix` + their name; the values it carries itself
    (anonymous parameters) stay as they are. Statements so renamed apart can be parts of
    one statement (persistence/together.py) though each names its own `page_parents`."""

    def rename(element: Any, **_kw: Any) -> Any:
        if isinstance(element, _OneOf):
            return _OneOf(element.column, prefix + element.name)
        if isinstance(element, BindParameter) and not element.unique:
            return bindparam(
                prefix + element.key,
                element.value,
                type_=element.type,
                required=element.required,
                callable_=element.callable,
                expanding=element.expanding,
                literal_execute=element.literal_execute,
            )
        return None

    renamed: Any = replacement_traverse(statement, {}, rename)
    return _select_of(renamed)


@dataclass(frozen=True)
class SortKey:
    """Columns a list is ordered by, each descending (newest first) or ascending."""

    columns: tuple[Any, ...]  # mapped attributes, or table columns for `row_pages_per_parent`
    descending: bool = True

    def order_by(self) -> list[ColumnElement[Any]]:
        return [c.desc() if self.descending else c.asc() for c in self.columns]

    def after(self, values: tuple[Any, ...]) -> ColumnElement[bool]:
        """Rows strictly past `values` in this order (tuple comparison written out)."""
        terms = []
        for i, column in enumerate(self.columns):
            past = column < values[i] if self.descending else column > values[i]
            terms.append(
                and_(*(c == v for c, v in zip(self.columns[:i], values, strict=False)), past)
            )
        return or_(*terms)

    def after_cursor(self) -> ColumnElement[bool]:
        """`after` of the values bound at execution as `page_after_0`, `page_after_1`, ..."""
        return self.after(
            tuple(
                bindparam(f"page_after_{i}", type_=column.type)
                for i, column in enumerate(self.columns)
            )
        )

    def cursor_of(self, row: Any) -> str:
        return encode_cursor([getattr(row, c.key) for c in self.columns])


async def pages_per_parent(
    session: AsyncSession,
    query: Select[Any] | Callable[[], Select[Any]],
    parent: InstrumentedAttribute[Any],
    parents: Sequence[Any],
    sort: SortKey,
    page: Page,
    *,
    shape: Hashable | None = None,
    params: Mapping[str, Any] | None = None,
    joined: Sequence[tuple[Any, ColumnElement[bool]]] = (),
    each_joined: Callable[[Sequence[Any]], None] | None = None,
    then_by: Sequence[Any] = (),
    options: Sequence[Any] = (),
    columns: Sequence[Any] = (),
    join_only: Sequence[tuple[Any, ColumnElement[bool]]] = (),
) -> dict[Any, PageOf]:
    """One statement: the page of `query`'s entity for each parent id in `parents`.

    The window runs over the primary key, the parent and the sort columns only, and the
    entity is joined back on its key, so the statement stays a plain entity select.

    Building that statement costs far more Python than running it (~0.5 ms a batch: the
    subquery's column proxies, coercions, the cache key), and it was the largest item of
    the dashboard's profile. So a hot list passes `shape`, a name for the form of its query,
    and `query` as a function building it with named `bindparam()`s whose values are in
    `params`: the statement is then built once per form and process and reused, only the
    parameters change. (Without `shape` it is built every time, for rarely used lists.)

    `joined`: (entity, on clause) pairs outer-joined to each row in the same statement (an
    appointment's provider and department, a result's components); `each_joined` is told
    each row of the statement, the entity then the joined objects in that order (a loader
    primes the loaders of those objects with them). A joined list (one row per component)
    repeats the entity, which is kept once (the session hands out one object per row
    identity); `then_by` orders the rows of one entity (the components' position).
    `options`: loader options of the entity (e.g. `with_expression`). `columns`: more
    columns of each row, after the joined objects; `join_only`: (target, on clause) pairs
    outer-joined after `joined` for those columns, not selected themselves (a line item's
    patient's names)."""
    values: dict[str, Any] = {
        **(params or {}),
        "page_parents": list(dict.fromkeys(parents)),
        "page_limit": page.first + 1,
    }
    if page.after is not None:
        values.update({f"page_after_{i}": v for i, v in enumerate(page.after)})
    postgres = session.get_bind().dialect.name == "postgresql"
    key = None if shape is None else (shape, parent.key, id(sort), page.after is None, postgres)
    stmt = _STATEMENTS.get(key) if key is not None else None
    if stmt is None:
        base = query() if callable(query) else query
        build = _lateral if postgres else _ranked
        stmt = build(
            base, parent, sort, page.after is not None, joined, then_by, columns, join_only
        )
        stmt = stmt.options(*options)
        if key is not None:
            _STATEMENTS[key] = stmt
    grouped: dict[Any, list[Any]] = defaultdict(list)
    if joined:
        for row in (await session.execute(stmt, values)).all():
            entity_row = row[0]
            rows_of = grouped[getattr(entity_row, parent.key)]
            if not rows_of or rows_of[-1] is not entity_row:
                rows_of.append(entity_row)
            if each_joined is not None:
                each_joined(row)
    else:
        for row in (await session.scalars(stmt, values)).all():
            grouped[getattr(row, parent.key)].append(row)
    return {p: _page(grouped.get(p, []), page.first, sort) for p in parents}


# Statements of `pages_per_parent` by (shape, parent, sort, whether after a cursor): a few
# dozen at most, one per list form of the schema.
_STATEMENTS: dict[Hashable, Select[Any]] = {}


T = TypeVar("T")


async def row_pages_per_parent(
    session: AsyncSession,
    query: Callable[[], Select[Any]],
    parent: KeyedColumnElement[Any],
    parents: Sequence[Any],
    sort: SortKey,
    page: Page,
    *,
    shape: Hashable,
    columns: Sequence[Any],
    make: Callable[[Sequence[Any]], T],
    params: Mapping[str, Any] | None = None,
    joined: Sequence[tuple[FromClause, ColumnElement[bool]]] = (),
    then_by: Sequence[Any] = (),
    each_row: Callable[[Sequence[Any]], None] | None = None,
    children: Children[Any] | None = None,
) -> dict[Any, PageOf]:
    """`pages_per_parent` in plain rows: a Core statement over table columns (SQLAlchemy
    Core, no ORM entity, identity map or instrumented attribute: a third of the cost of a
    page), each page's rows made by `make` from the statement's row. On PostgreSQL asyncpg
    runs the statement itself (`persistence.raw.rows`): `make` and `each_row` read a row by
    position (`row[0]`, `row[2:9]`), not by name.

    `query` builds the select of the listed table (its filters; table columns, not mapped
    attributes); `columns` are what each row of the statement holds, the listed table's
    primary key first, a labelled expression among them (`.label(...)`, e.g. a correlated
    subquery) of the listed row alone (on PostgreSQL it is computed once per listed row,
    not once per row of a joined list); `joined`: (table, on clause) pairs outer-joined to
    each row (a joined list repeats the row: consecutive rows of one key make one `make`),
    `each_row` is told every row (a loader primes the loaders of what came joined);
    `children` collects a joined list in this loop (see `Children`): with it (and `then_by`)
    the columns before `children.at` are read from a listed row's first row alone, and on
    PostgreSQL its other rows have them NULL (the key excepted; `each_row` must not read
    them). The statement is built once per `shape` (and dialect, cursor or not, children or
    not) and process.

    `row_pages` is the same read as a statement and its values, the pages made from its
    rows afterwards (`RowPages.pages`): a batch can then run it in one statement with
    others (loaders/base.py)."""
    read = row_pages(
        dialect_of(session),
        query,
        parent,
        parents,
        sort,
        page,
        shape=shape,
        columns=columns,
        make=make,
        params=params,
        joined=joined,
        then_by=then_by,
        each_row=each_row,
        children=children,
    )
    return await read.run(session)


def dialect_of(session: AsyncSession) -> str:
    """The name of the dialect `session` reads with ("postgresql", "sqlite")."""
    return session.get_bind().dialect.name


def row_pages(
    dialect: str,
    query: Callable[[], Select[Any]],
    parent: KeyedColumnElement[Any],
    parents: Sequence[Any],
    sort: SortKey,
    page: Page,
    *,
    shape: Hashable,
    columns: Sequence[Any],
    make: Callable[[Sequence[Any]], T],
    params: Mapping[str, Any] | None = None,
    joined: Sequence[tuple[FromClause, ColumnElement[bool]]] = (),
    then_by: Sequence[Any] = (),
    each_row: Callable[[Sequence[Any]], None] | None = None,
    children: Children[Any] | None = None,
) -> RowPages[T]:
    """`row_pages_per_parent`'s statement (for `dialect`) and values, not run yet."""
    values: dict[str, Any] = {
        **(params or {}),
        "page_parents": list(dict.fromkeys(parents)),
        "page_limit": page.first + 1,
    }
    if page.after is not None:
        values.update({f"page_after_{i}": v for i, v in enumerate(page.after)})
    postgres = dialect == "postgresql"
    # With `children`, only a listed row's first row is read for anything before them.
    once = children.at if children is not None and then_by else 0
    key = (shape, id(sort), page.after is not None, postgres, once)
    stmt = _ROW_STATEMENTS.get(key)
    if stmt is None:
        if postgres:
            stmt = _lateral_rows(
                query(), columns, parent, sort, page.after is not None, joined, then_by, once
            )
        else:
            stmt = _ranked_rows(query(), columns, parent, sort, page.after is not None, joined)
        stmt = stmt.order_by(*then_by)
        _ROW_STATEMENTS[key] = stmt
    return RowPages(stmt, values, parent.key, parents, page.first, sort, make, each_row, children)


class RowPages(Generic[T]):
    """A read of `row_pages`: its `statement` to run with `values`, and `pages`, the pages
    made of the rows it returned (each parent's, empty for a parent without any)."""

    __slots__ = (
        "children",
        "each_row",
        "first",
        "make",
        "parent_key",
        "parents",
        "sort",
        "statement",
        "values",
    )

    def __init__(
        self,
        statement: Select[Any],
        values: dict[str, Any],
        parent_key: str,
        parents: Sequence[Any],
        first: int,
        sort: SortKey,
        make: Callable[[Sequence[Any]], T],
        each_row: Callable[[Sequence[Any]], None] | None,
        children: Children[Any] | None,
    ) -> None:
        self.statement, self.values = statement, values
        self.parent_key, self.parents, self.first, self.sort = parent_key, parents, first, sort
        self.make, self.each_row, self.children = make, each_row, children

    async def run(self, session: AsyncSession) -> dict[Any, PageOf]:
        """The pages, the statement run on `session` (`raw.rows`); a batch read together
        with others gives `pages` the rows itself (loaders/base.py)."""
        return self.pages(await raw.rows(session, self.statement, self.values))

    def pages(self, records: Sequence[Sequence[Any]]) -> dict[Any, PageOf]:
        grouped: dict[Any, list[T]] = defaultdict(list)
        parent_key, make, each_row, children = (
            self.parent_key,
            self.make,
            self.each_row,
            self.children,
        )
        last = None
        if children is None:
            for row in records:
                if row[0] != last:
                    last = row[0]
                    made = make(row)
                    grouped[getattr(made, parent_key)].append(made)
                if each_row is not None:
                    each_row(row)
        else:
            at, make_child, of = children.at, children.make, children.of
            listed: list[Any] = []
            for row in records:
                if row[0] != last:
                    last = row[0]
                    made = make(row)
                    grouped[getattr(made, parent_key)].append(made)
                    listed = of[last] = []
                if row[at] is not None:
                    listed.append(make_child(row[at:]))
                if each_row is not None:
                    each_row(row)
        first, cursor_of = self.first, self.sort.cursor_of
        pages = {}
        for p in self.parents:
            rows = grouped.get(p)
            if rows is None:
                pages[p] = PageOf([], False, cursor_of=cursor_of)
            else:
                pages[p] = PageOf(rows[:first], len(rows) > first, cursor_of=cursor_of)
        return pages


C = TypeVar("C")


class Children(Generic[C]):
    """A joined list of `row_pages_per_parent` (a result's components), collected in its
    own loop without a Python call per row: the part of each statement row from column `at`
    on made by `make` (a C callable such as `partial(tuple.__new__, SomeNamedTuple)`), in
    `of` under the key (first column) of the row's listed entity, in the statement's order;
    a row whose column `at` is NULL (the outer join found none) adds nothing, so an entity
    without any has an empty list."""

    __slots__ = ("at", "make", "of")

    def __init__(self, at: int, make: Callable[[Sequence[Any]], C]) -> None:
        self.at = at
        self.make = make
        self.of: dict[Any, list[C]] = {}


# Statements of `row_pages_per_parent`, as `_STATEMENTS`.
_ROW_STATEMENTS: dict[Hashable, Select[Any]] = {}


def _ranked_rows(
    query: Select[Any],
    columns: Sequence[Any],
    parent: KeyedColumnElement[Any],
    sort: SortKey,
    after: bool,
    joined: Sequence[tuple[FromClause, ColumnElement[bool]]],
) -> Select[Any]:
    if after:
        query = query.where(sort.after_cursor())
    key = columns[0]
    rank = func.row_number().over(partition_by=parent, order_by=sort.order_by()).label("rank")
    ranked = (
        query.with_only_columns(key, parent, rank, maintain_column_froms=True)
        .where(one_of(parent, "page_parents"))
        .subquery()
    )
    stmt = select(*columns).select_from(key.table).join(ranked, key == ranked.c[key.key])
    for other, on in joined:
        stmt = stmt.outerjoin(other, on)
    return stmt.where(ranked.c.rank <= bindparam("page_limit")).order_by(
        ranked.c[parent.key], ranked.c.rank
    )


def _lateral_rows(
    query: Select[Any],
    columns: Sequence[Any],
    parent: KeyedColumnElement[Any],
    sort: SortKey,
    after: bool,
    joined: Sequence[tuple[FromClause, ColumnElement[bool]]],
    then_by: Sequence[Any] = (),
    once: int = 0,
) -> Select[Any]:
    """PostgreSQL: the first rows of each parent as `unnest(:parents) CROSS JOIN LATERAL
    (… ORDER BY … LIMIT :limit)`, an index walk per parent that stops at the limit. The
    windowed form (`_ranked_rows`) numbers every row of the parents before keeping the
    first ones, and its plan depends on the list's length: PostgreSQL planned it anew at
    each execution (0.25-0.6 ms of its CPU a statement, more than running it), while this
    form's plan is the same for any list and is made once per prepared statement."""
    if after:
        query = query.where(sort.after_cursor())
    key = columns[0]
    # A labelled expression among the columns (a correlated subquery: a result's held
    # kinds, a statement's payments) is of the listed row alone: computed in the LATERAL,
    # once per listed row, instead of once per row of the joined list (a result's
    # components: 67 subquery runs a dashboard for 11 results, ~10 % of PostgreSQL's CPU
    # for the dashboard's lists).
    own = [column for column in columns if isinstance(column, Label)]
    parents, top = _first_per_parent(query, key, parent, sort, own)
    joins = parents.join(top, true()).join(key.table, key == top.c[key.key])
    for other, on in joined:
        joins = joins.outerjoin(other, on)
    selected = [top.c[column.name] if isinstance(column, Label) else column for column in columns]
    if once > 1:
        # Columns 1 to `once` (the listed row's but its key) only on its first row, NULL on
        # the others of its joined list (`then_by`'s order): a result's 13 columns came
        # again with each of its components, 67 rows a dashboard for 11 results, each
        # value sent, aggregated and decoded (3 timestamps a row) for nothing; `make`
        # reads the first row alone (`RowPages.pages`). One window, over the order the
        # statement sorts by anyway.
        first = func.row_number().over(
            partition_by=(parents.c.parent_id, top.c.rank), order_by=list(then_by)
        )
        selected[1:once] = [
            case((first == literal_column("1"), column), else_=null()).label(f"once_{i}")
            for i, column in enumerate(selected[1:once], start=1)
        ]
    return select(*selected).select_from(joins).order_by(parents.c.parent_id, top.c.rank)


def fields_of(table: FromClause, fields: Sequence[str]) -> list[Any]:
    """The columns of `table` named `fields`, in that order (a row type's fields)."""
    return [table.c[name] for name in fields]


def _ranked(
    query: Select[Any],
    parent: InstrumentedAttribute[Any],
    sort: SortKey,
    after: bool,
    joined: Sequence[tuple[Any, ColumnElement[bool]]] = (),
    then_by: Sequence[Any] = (),
    columns: Sequence[Any] = (),
    join_only: Sequence[tuple[Any, ColumnElement[bool]]] = (),
) -> Select[Any]:
    if after:
        query = query.where(sort.after_cursor())
    entity = query.column_descriptions[0]["entity"]
    key = _primary_key(entity)
    rank = func.row_number().over(partition_by=parent, order_by=sort.order_by()).label("rank")
    ranked = (
        query.with_only_columns(key, parent, rank, maintain_column_froms=True)
        .where(one_of(parent, "page_parents"))
        .subquery()
    )
    stmt = (
        select(entity, *(other for other, _ in joined), *columns)
        .select_from(entity)
        .join(ranked, key == ranked.c[key.key])
    )
    for other, on in (*joined, *join_only):
        stmt = stmt.outerjoin(other, on)
    return stmt.where(ranked.c.rank <= bindparam("page_limit")).order_by(
        ranked.c[parent.key], ranked.c.rank, *then_by
    )


def _lateral(
    query: Select[Any],
    parent: InstrumentedAttribute[Any],
    sort: SortKey,
    after: bool,
    joined: Sequence[tuple[Any, ColumnElement[bool]]] = (),
    then_by: Sequence[Any] = (),
    columns: Sequence[Any] = (),
    join_only: Sequence[tuple[Any, ColumnElement[bool]]] = (),
) -> Select[Any]:
    """`_ranked` on PostgreSQL, as `_lateral_rows` (see there why)."""
    if after:
        query = query.where(sort.after_cursor())
    entity = query.column_descriptions[0]["entity"]
    key = _primary_key(entity)
    parents, top = _first_per_parent(query, key, parent, sort)
    joins = parents.join(top, true()).join(entity, key == top.c[key.key])
    for other, on in (*joined, *join_only):
        joins = joins.outerjoin(other, on)
    stmt = select(entity, *(other for other, _ in joined), *columns).select_from(joins)
    return stmt.order_by(parents.c.parent_id, top.c.rank, *then_by)


def _first_per_parent(
    query: Select[Any], key: Any, parent: Any, sort: SortKey, also: Sequence[Label[Any]] = ()
) -> tuple[Any, Any]:
    """`unnest(:page_parents)`, and LATERAL to it the keys of each parent's first
    `:page_limit` rows of `query` in `sort` order, numbered (`rank`), with `also`."""
    parents = (
        func.unnest(bindparam("page_parents", type_=ARRAY(parent.type)))
        .table_valued("parent_id")
        .render_derived(name="page_parents")
    )
    rank = func.row_number().over(order_by=sort.order_by()).label("rank")
    numbered = query.with_only_columns(key, rank, *also, maintain_column_froms=True)
    if also and len(numbered.get_final_froms()) != len(query.get_final_froms()):
        # it would be joined to every row of the list, silently
        raise ValueError("a labelled column of a page reads a table its query does not")
    top = (
        numbered.where(parent == parents.c.parent_id)
        .correlate(parents)  # the listed table is its own, not the outer query's
        .order_by(*sort.order_by())
        .limit(bindparam("page_limit", type_=Integer()))
        .lateral("page_top")
    )
    return parents, top


def _primary_key(entity: Any) -> Any:
    [column] = inspect(entity).primary_key
    return getattr(entity, column.key)


def page_from(rows: list[Any], first: int, sort: SortKey) -> PageOf:
    """The page of `first` rows out of the first `first + 1` of a list (the extra one, if
    there, says a next page exists)."""
    return _page(rows, first, sort)


def _page(rows: list[Any], first: int, sort: SortKey) -> PageOf:
    kept = rows[:first]
    return PageOf(kept, len(rows) > first, cursor_of=sort.cursor_of)


async def page_of(session: AsyncSession, query: Select[Any], sort: SortKey, page: Page) -> PageOf:
    """A single keyset page of a list that has no parent (providers, open slots)."""
    if page.after is not None:
        query = query.where(sort.after(page.after))
    rows = list(
        (await session.scalars(query.order_by(*sort.order_by()).limit(page.first + 1))).all()
    )
    return _page(rows, page.first, sort)
