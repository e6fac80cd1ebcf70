"""Pages of a list as clients ask for them: the bounds, what a page asks for and what it
holds, and the opaque cursors that mark a place in a list (pure: no I/O)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
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


@dataclass(frozen=True)
class PageOf:
    rows: list[Any]
    has_next: bool
    cursors: list[str]


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
    except (ValueError, TypeError) as exc:
        raise BadCursor("cursor is not valid for this list") from exc


def _parse(value: Any, kind: type) -> Any:
    if kind is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:  # not one we wrote: ours are UTC, and SQL refuses naive ones
            raise BadCursor("cursor is not valid for this list")
        return moment
    if kind is date:
        return date.fromisoformat(value)
    if not isinstance(value, kind):
        raise BadCursor("cursor is not valid for this list")
    return value
