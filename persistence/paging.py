"""Keyset pages of "latest N per parent" lists: one statement for any number of parents.

A page is asked for many parents at once (the DataLoader batch); ROW_NUMBER() over a
partition per parent keeps the first N+1 rows of each (the extra row tells whether there
is a next page). A cursor is the sort key of the last row seen, so pages stay stable
while rows are added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from domain.paging import (
    DEFAULT_PAGE,
    MAX_PAGE,
    BadCursor,
    Page,
    PageOf,
    decode_cursor,
    encode_cursor,
)

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
    built once and run with new values (see `pages_per_parent`)."""
    return column.in_(bindparam(name, expanding=True))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class SortKey:
    """Columns a list is ordered by, each descending (newest first) or ascending."""

    columns: tuple[InstrumentedAttribute[Any], ...]
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
    `options`: loader options of the entity (e.g. `with_expression`)."""
    values: dict[str, Any] = {
        **(params or {}),
        "page_parents": list(dict.fromkeys(parents)),
        "page_limit": page.first + 1,
    }
    if page.after is not None:
        values.update({f"page_after_{i}": v for i, v in enumerate(page.after)})
    key = None if shape is None else (shape, parent.key, id(sort), page.after is None)
    stmt = _STATEMENTS.get(key) if key is not None else None
    if stmt is None:
        base = query() if callable(query) else query
        stmt = _ranked(base, parent, sort, page.after is not None, joined, then_by)
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


def _ranked(
    query: Select[Any],
    parent: InstrumentedAttribute[Any],
    sort: SortKey,
    after: bool,
    joined: Sequence[tuple[Any, ColumnElement[bool]]] = (),
    then_by: Sequence[Any] = (),
) -> Select[Any]:
    if after:
        query = query.where(
            sort.after(
                tuple(
                    bindparam(f"page_after_{i}", type_=column.type)
                    for i, column in enumerate(sort.columns)
                )
            )
        )
    entity = query.column_descriptions[0]["entity"]
    key = _primary_key(entity)
    rank = func.row_number().over(partition_by=parent, order_by=sort.order_by()).label("rank")
    ranked = (
        query.with_only_columns(key, parent, rank, maintain_column_froms=True)
        .where(one_of(parent, "page_parents"))
        .subquery()
    )
    stmt = (
        select(entity, *(other for other, _ in joined))
        .select_from(entity)
        .join(ranked, key == ranked.c[key.key])
    )
    for other, on in joined:
        stmt = stmt.outerjoin(other, on)
    return stmt.where(ranked.c.rank <= bindparam("page_limit")).order_by(
        ranked.c[parent.key], ranked.c.rank, *then_by
    )


def _primary_key(entity: Any) -> Any:
    [column] = inspect(entity).primary_key
    return getattr(entity, column.key)


def _page(rows: list[Any], first: int, sort: SortKey) -> PageOf:
    kept = rows[:first]
    return PageOf(kept, len(rows) > first, [sort.cursor_of(r) for r in kept])


async def page_of(session: AsyncSession, query: Select[Any], sort: SortKey, page: Page) -> PageOf:
    """A single keyset page of a list that has no parent (providers, open slots)."""
    if page.after is not None:
        query = query.where(sort.after(page.after))
    rows = list(
        (await session.scalars(query.order_by(*sort.order_by()).limit(page.first + 1))).all()
    )
    return _page(rows, page.first, sort)
