"""Results, their components, the patient's hold preferences and component trends."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.scopes import RecordArea
from persistence import models as m
from persistence import raw
from persistence.paging import (
    Children,
    Page,
    PageOf,
    RowPages,
    SortKey,
    dialect_of,
    fields_of,
    one_of,
    row_pages,
)
from persistence.queries.guard import patient_ids


class ResultRow(NamedTuple):
    """A result as the read path has it (a plain row, no ORM entity); `held_kinds`: the
    result kinds its patient holds, comma-separated ("" for none)."""

    id: str
    patient_id: str
    ordering_provider_id: str | None
    name: str
    code: str
    kind: str
    collected_at: datetime | None
    resulted_at: datetime | None
    status: str
    released_at: datetime | None
    provider_comment: str | None
    report: str | None
    held_kinds: str | None


class ComponentRow(NamedTuple):
    """A result component as the read path has it (what `ResultComponent` shows)."""

    result_id: str
    patient_id: str
    loinc: str
    name: str
    value: float | None
    value_text: str | None
    unit: str | None
    ref_low: float | None
    ref_high: float | None


_R, _RC = m.Result.__table__, m.ResultComponent.__table__
# Newest first. A result not resulted yet has no resulted_at (NULL) and sorts differently on
# SQLite and PostgreSQL; the EHR feed sets resulted_at for every result it sends us.
RESULT_SORT = SortKey((_R.c.resulted_at, _R.c.id), descending=True)

# Every result of a page says which kinds its patient holds (all of them, not only its own):
# the page then needs no statement for the hold preferences.
_HOLD = m.ResultHoldPreference.__table__
HELD_KINDS = func.coalesce(
    select(func.aggregate_strings(_HOLD.c.kind, ","))
    .where(_HOLD.c.patient_id == _R.c.patient_id)
    .scalar_subquery(),
    "",
)

# Each result comes with its components (one row each), in the same statement.
_COMPONENT_COLUMNS = fields_of(_RC, ComponentRow._fields)
_RESULT_COLUMNS = [*fields_of(_R, ResultRow._fields[:-1]), HELD_KINDS.label("held_kinds")]
_COMPONENT_AT = len(_RESULT_COLUMNS)
WITH_COMPONENTS = ((_RC, and_(_RC.c.result_id == _R.c.id, _RC.c.patient_id == _R.c.patient_id)),)


def _result(row: Sequence[Any]) -> ResultRow:
    return ResultRow._make(row[:_COMPONENT_AT])


# `ComponentRow._make` without its check of the length (a Python frame, ~50 a dashboard):
# the statement selects `_COMPONENT_COLUMNS`, one column a field.
_component_row = partial(tuple.__new__, ComponentRow)


def component_of(row: Sequence[Any]) -> ComponentRow | None:
    """The component of a row of `result_pages` (None: the result has none)."""
    return _component_row(row[_COMPONENT_AT:]) if row[_COMPONENT_AT] is not None else None


def components() -> Children[ComponentRow]:
    """For `result_pages`: each result's components, by result id, collected in the pages'
    own loop (what `component_of` of each row gives, without a call per row)."""
    return Children(_COMPONENT_AT, _component_row)


async def result_pages(
    session: AsyncSession,
    grants: Sequence[PatientGrant],
    page: Page,
    each_row: Callable[[Sequence[Any]], None] | None = None,
    *,
    with_components: Children[ComponentRow] | None = None,
) -> dict[str, PageOf]:
    """`page.filter` is a result kind ("lab", "imaging") or None for every kind; the pages
    hold `ResultRow`s. The results are loaded with their components, each row of the
    statement (a result and one component, in position order) told to `each_row`
    (`component_of` reads it), the components collected in `with_components` (made by
    `components()`): every result read, the extra one past the page too, has its list
    there, empty when it has none. A held result's components are loaded as the components'
    loader would; its resolver refuses them (HELD_FOR_REVIEW) before reading any."""
    return await result_read(
        dialect_of(session), grants, page, each_row, with_components=with_components
    ).run(session)


def result_read(
    dialect: str,
    grants: Sequence[PatientGrant],
    page: Page,
    each_row: Callable[[Sequence[Any]], None] | None = None,
    *,
    with_components: Children[ComponentRow] | None = None,
) -> RowPages[ResultRow]:
    """`result_pages`' statement for `dialect`, not run yet (`RowPages`)."""
    kind = page.filter

    def query() -> Select[Any]:
        if kind is None:
            return select(_R)
        return select(_R).where(_R.c.kind == bindparam("kind", type_=_R.c.kind.type))

    ids = patient_ids(grants, RecordArea.RESULTS)
    return row_pages(
        dialect,
        query,
        _R.c.patient_id,
        ids,
        RESULT_SORT,
        page,
        shape=("results", kind is None),
        columns=[*_RESULT_COLUMNS, *_COMPONENT_COLUMNS],
        make=_result,
        params={"kind": kind},
        joined=WITH_COMPONENTS,
        then_by=[_RC.c.position],
        each_row=each_row,
        children=with_components,
    )


# Built once per process (persistence/paging.py says why): the dashboard's nested lists.
COMPONENTS = (
    select(*_COMPONENT_COLUMNS)
    .where(
        one_of(_RC.c.result_id, "result_ids"),
        one_of(_RC.c.patient_id, "patient_ids"),
    )
    .order_by(_RC.c.result_id, _RC.c.position)
)
HOLD_PREFERENCES = select(_HOLD.c.patient_id, _HOLD.c.kind).where(
    one_of(_HOLD.c.patient_id, "patient_ids")
)


async def components_of(
    session: AsyncSession, grants: Sequence[PatientGrant], result_ids: Sequence[str]
) -> list[ComponentRow]:
    """Components of these results (only those of the grants' patients), in position order."""
    values = {
        "result_ids": list(result_ids),
        "patient_ids": patient_ids(grants, RecordArea.RESULTS),
    }
    return [ComponentRow._make(row) for row in await raw.rows(session, COMPONENTS, values)]


async def hold_preferences(
    session: AsyncSession, grants: Sequence[PatientGrant]
) -> list[tuple[str, str]]:
    """(patient_id, kind) for every kind a patient asked to hear from their doctor first."""
    values = {"patient_ids": patient_ids(grants, RecordArea.RESULTS)}
    return [(row[0], row[1]) for row in await raw.rows(session, HOLD_PREFERENCES, values)]


@dataclass(frozen=True)
class TrendRow:
    """One component value with what decides whether its result is released."""

    patient_id: str
    loinc: str
    result_id: str
    kind: str
    code: str
    status: str
    collected_at: datetime | None
    resulted_at: datetime | None
    released_at: datetime | None
    held_by_patient: bool
    value: float | None
    unit: str | None
    ref_low: float | None
    ref_high: float | None


async def trend_rows(
    session: AsyncSession, grants: Sequence[PatientGrant], codes: Sequence[str]
) -> list[TrendRow]:
    """Every value of these component codes for these patients, released or not, oldest first.

    Reads ix_result_components_patient_loinc. Whether each is released is for the caller to
    decide (domain.results.release_of), so the rule stays in one place; the hold preference
    comes along in the same statement.
    """
    c, r, hold = m.ResultComponent, m.Result, m.ResultHoldPreference
    stmt = (
        select(
            c.patient_id,
            c.loinc,
            c.value,
            c.unit,
            c.ref_low,
            c.ref_high,
            r.id.label("result_id"),
            r.kind,
            r.code,
            r.status,
            r.collected_at,
            r.resulted_at,
            r.released_at,
            hold.kind.is_not(None).label("held_by_patient"),
        )
        .join(r, r.id == c.result_id)
        .outerjoin(hold, and_(hold.patient_id == r.patient_id, hold.kind == r.kind))
        .where(
            c.patient_id.in_(patient_ids(grants, RecordArea.RESULTS)),
            c.loinc.in_(list(set(codes))),
        )
        .order_by(c.patient_id, func.coalesce(r.collected_at, r.resulted_at), r.id, c.position)
    )
    return [
        TrendRow(
            patient_id=row.patient_id,
            loinc=row.loinc,
            result_id=row.result_id,
            kind=row.kind,
            code=row.code,
            status=row.status,
            collected_at=row.collected_at,
            resulted_at=row.resulted_at,
            released_at=row.released_at,
            held_by_patient=bool(row.held_by_patient),
            value=row.value,
            unit=row.unit,
            ref_low=row.ref_low,
            ref_high=row.ref_high,
        )
        for row in (await session.execute(stmt)).all()
    ]
