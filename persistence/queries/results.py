"""Results, their components, the patient's hold preferences and component trends."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import with_expression

from domain.access import PatientGrant
from domain.scopes import RecordArea
from persistence import models as m
from persistence.paging import Page, PageOf, SortKey, one_of, pages_per_parent
from persistence.queries.guard import patient_ids

# Newest first. A result not resulted yet has no resulted_at (NULL) and sorts differently on
# SQLite and PostgreSQL; the EHR feed sets resulted_at for every result it sends us.
RESULT_SORT = SortKey((m.Result.resulted_at, m.Result.id), descending=True)


# Each result comes with its components (one row each), in the same statement.
_RC = m.ResultComponent
WITH_COMPONENTS = (
    (_RC, and_(_RC.result_id == m.Result.id, _RC.patient_id == m.Result.patient_id)),
)


# Every result of a page says which kinds its patient holds (all of them, not only its own):
# the page then needs no statement for the hold preferences.
_HOLD = m.ResultHoldPreference
HELD_KINDS = func.coalesce(
    select(func.aggregate_strings(_HOLD.kind, ","))
    .where(_HOLD.patient_id == m.Result.patient_id)
    .scalar_subquery(),
    "",
)
# Built once (building the option costs Python time even when the statement is cached).
WITH_HELD_KINDS = (with_expression(m.Result.held_kinds, HELD_KINDS),)


async def result_pages(
    session: AsyncSession,
    grants: Sequence[PatientGrant],
    page: Page,
    each_joined: Callable[[Sequence[Any]], None] | None = None,
) -> dict[str, PageOf]:
    """`page.filter` is a result kind ("lab", "imaging") or None for every kind. The results
    are loaded with their components, told to `each_joined` as (result, component or None)
    rows in position order. A held result's components are loaded as the components'
    loader would; its resolver refuses them (HELD_FOR_REVIEW) before reading any."""
    kind = page.filter

    def query() -> Select[m.Result]:
        if kind is None:
            return select(m.Result)
        return select(m.Result).where(m.Result.kind == bindparam("kind", type_=m.Result.kind.type))

    ids = patient_ids(grants, RecordArea.RESULTS)
    return await pages_per_parent(
        session,
        query,
        m.Result.patient_id,
        ids,
        RESULT_SORT,
        page,
        shape=("results", kind is None),
        params={"kind": kind},
        joined=WITH_COMPONENTS,
        each_joined=each_joined,
        then_by=[_RC.position],
        options=WITH_HELD_KINDS,
    )


# Built once per process (persistence/paging.py says why): the dashboard's nested lists.
COMPONENTS = (
    select(_RC)
    .where(
        one_of(_RC.result_id, "result_ids"),
        one_of(_RC.patient_id, "patient_ids"),
    )
    .order_by(_RC.result_id, _RC.position)
)
HOLD_PREFERENCES = select(m.ResultHoldPreference.patient_id, m.ResultHoldPreference.kind).where(
    one_of(m.ResultHoldPreference.patient_id, "patient_ids")
)


async def components_of(
    session: AsyncSession, grants: Sequence[PatientGrant], result_ids: Sequence[str]
) -> list[m.ResultComponent]:
    """Components of these results (only those of the grants' patients), in position order."""
    values = {
        "result_ids": list(result_ids),
        "patient_ids": patient_ids(grants, RecordArea.RESULTS),
    }
    return list((await session.scalars(COMPONENTS, values)).all())


async def hold_preferences(
    session: AsyncSession, grants: Sequence[PatientGrant]
) -> list[tuple[str, str]]:
    """(patient_id, kind) for every kind a patient asked to hear from their doctor first."""
    values = {"patient_ids": patient_ids(grants, RecordArea.RESULTS)}
    rows = (await session.execute(HOLD_PREFERENCES, values)).all()
    return [(row.patient_id, row.kind) for row in rows]


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
