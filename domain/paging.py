"""Pages of a list as clients ask for them: the bounds, what a page asks for and what it
holds, and the opaque cursors that mark a place in a list (pure: no I/O)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

MAX_PAGE = 100
DEFAULT_PAGE = 20


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Page:
    """What a connection field asks for: the first N after a cursor (None: from the start)."""

    first: int = DEFAULT_PAGE
    after: tuple[Any, ...] | None = None
    filter: Any = None  # hashable; what the list is narrowed to (e.g. upcoming, lab)


class PageOf:
    """The rows of a page, whether more follow, and each row's cursor.

    A cursor is an encoding of the row's sort key (several microseconds each), and most
    clients ask for the nodes of a connection, not for its cursors: a page may be given
    `cursor_of` (a row's cursor) instead of its cursors, which are then made when asked."""

    __slots__ = ("_cursor_of", "_cursors", "_sorted_rows", "has_next", "rows")

    def __init__(
        self,
        rows: list[Any],
        has_next: bool,
        cursors: list[str] | None = None,
        *,
        cursor_of: Callable[[Any], str] | None = None,
    ) -> None:
        if (cursors is None) == (cursor_of is None):
            raise TypeError("a page has either its cursors or a way to make them")
        self.rows = rows
        self.has_next = has_next
        self._cursors = cursors
        self._cursor_of = cursor_of
        self._sorted_rows = rows  # the rows `cursor_of` reads (see `mapped`)

    def mapped(self, convert: Callable[[Any], Any]) -> PageOf:
        """This page with each row converted; the cursors stay those of the rows read."""
        return self._with([convert(row) for row in self.rows])

    def mapped_each(self, convert: Callable[[Any, Any], Any], given: Any) -> PageOf:
        """`mapped` with `convert(row, given)`: no lambda's frame around each row."""
        return self._with([convert(row, given) for row in self.rows])

    def _with(self, rows: list[Any]) -> PageOf:
        page = PageOf(
            rows,
            self.has_next,
            self._cursors,
            cursor_of=None if self._cursors is not None else self._cursor_of,
        )
        page._sorted_rows = self._sorted_rows
        return page

    @property
    def cursors(self) -> list[str]:
        if self._cursors is None:
            make = self._cursor_of
            self._cursors = [make(row) for row in self._sorted_rows] if make else []
        return self._cursors

    def cursor(self, index: int) -> str:
        """The cursor of row `index` (without making the others')."""
        if self._cursors is None and self._cursor_of is not None:
            return self._cursor_of(self._sorted_rows[index])
        return self.cursors[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PageOf):
            return NotImplemented
        mine = (self.rows, self.has_next, self.cursors)
        return mine == (other.rows, other.has_next, other.cursors)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PageOf(rows={self.rows!r}, has_next={self.has_next!r})"


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime | date) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: Sequence[type]) -> tuple[Any, ...]:
    """Parse a client's cursor back into sort values of the expected kinds."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise BadCursor("cursor does not belong to this list")
        return tuple(_parse(value, kind) for value, kind in zip(raw, kinds, strict=True))
    # RecursionError: JSON nested past the parser's depth; OverflowError: a time that is
    # out of range once in UTC (year 1 at +14:00).
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:
        raise BadCursor("cursor is not valid for this list") from exc


# What a cursor's values may be, as the database takes them: a 64-bit integer, text
# without NUL (PostgreSQL refuses it in text).
INT64 = range(-(1 << 63), 1 << 63)


def _parse(value: Any, kind: type) -> Any:
    if kind is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:  # not one we wrote: ours are UTC, and SQL refuses naive ones
            raise BadCursor("cursor is not valid for this list")
        return moment.astimezone(UTC)
    if kind is date:
        return date.fromisoformat(value)
    if (
        not isinstance(value, kind)
        or isinstance(value, bool)
        or (isinstance(value, int) and value not in INT64)
        or (isinstance(value, str) and "\x00" in value)
    ):
        raise BadCursor("cursor is not valid for this list")
    return value
