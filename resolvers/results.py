"""A patient's results, their values once released, and the trend of one component code."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from domain.access import AccessDenied, PatientGrant
from domain.errors import BrokenInvariant
from domain.scopes import AccessReason, RecordArea
from persistence import models as m
from persistence.paging import Page
from schema import results as s
from schema.base import Connection, cursor_values, page_size

if TYPE_CHECKING:
    from schema.base import Info
    from schema.enums import ResultKind

T = TypeVar("T")


async def patient_results(
    info: Info, grant: PatientGrant, kind: ResultKind | None, first: int | None, after: str | None
) -> Connection[s.Result]:
    filter_ = kind.value if kind is not None else None
    page = Page(page_size(first), cursor_values(after, [datetime, str]), filter_)
    loaders = info.context.loaders
    found = await loaders.result_pages.get((grant, page))
    if found is None:
        raise BrokenInvariant("found is None")
    # The page's statement primed the holds; an empty page needs none.
    held = await loaders.result_holds.get(grant) if found.rows else frozenset()
    return Connection.of(
        found, lambda row: s.Result.from_row(row, grant, held or frozenset(), info)
    )


async def result(info: Info, row: m.Result, grant: PatientGrant) -> s.Result:
    """A result reached by id, after `node` checked access to its owner."""
    held = await info.context.loaders.result_holds.get(grant)
    return s.Result.from_row(row, grant, held or frozenset(), info)


def released_value(result: s.Result, value: T) -> T:
    """A value of the result, or FORBIDDEN (HELD_FOR_REVIEW) while it is not released."""
    if not result.released:
        raise AccessDenied(AccessReason.HELD_FOR_REVIEW, RecordArea.RESULTS)
    return value


async def components(info: Info, result: s.Result) -> list[s.ResultComponent]:
    released_value(result, None)
    rows = await info.context.loaders.result_components.get((result.grant, result.internal_id))
    return [s.ResultComponent.from_row(row) for row in rows or []]


async def result_trend(info: Info, grant: PatientGrant, code: str) -> list[s.TrendPoint]:
    """Released values only, oldest first; the release rule is the domain's, as for Result."""
    rows = await info.context.loaders.result_trend.get((grant, code))
    points = []
    for row in rows or []:
        release = s.release_in(info, row, row.held_by_patient)
        if release.released:
            points.append(s.TrendPoint.from_row(row, release))
    return points
