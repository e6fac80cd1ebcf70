"""Scalars whose input rules are ours: a DateTime must say its time zone.

strawberry's own DateTime takes `2026-12-08T09:00:00` as a naive datetime, which nothing
below may compare with the aware UTC values we store; which zone the client meant is
unknowable, so the value is refused at the edge, in a variable or a literal alike, as
BAD_USER_INPUT that says what is missing. Accepted values are converted to UTC.
"""

from __future__ import annotations

import datetime as dt

from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

ZONE_REQUIRED = (
    'A DateTime needs a time zone: "{value}" has none. Add `Z` for UTC or an offset '
    "such as `-05:00`."
)


def _refuse(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


def parse_aware_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise _refuse(f"A DateTime is an ISO-8601 string, not {type(value).__name__}.")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        raise _refuse(f'"{value[:64]}" is not an ISO-8601 date and time.') from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _refuse(ZONE_REQUIRED.format(value=value[:64]))
    return parsed.astimezone(dt.UTC)


AWARE_DATETIME = ScalarDefinition(
    name="DateTime",
    description="Date with time (isoformat); as input, with a time zone (`Z` or an offset)",
    specified_by_url=None,
    serialize=dt.datetime.isoformat,
    parse_value=parse_aware_datetime,
    parse_literal=None,
    origin=dt.datetime,
)
