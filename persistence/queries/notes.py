"""Clinical notes as a reader may see them: the policy's `NoteFilter` (domain/access.py)
applied in SQL, so a page holds only what that reader may read and pages stay full."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import NoteFilter, PatientGrant
from domain.scopes import RecordArea
from persistence import models as m
from persistence.paging import Page, PageOf, SortKey, one_of, pages_per_parent
from persistence.queries.guard import patient_ids

N = m.ClinicalNote
NOTE_SORT = SortKey((N.signed_at, N.id), descending=True)


def _visible(filter_: NoteFilter) -> ColumnElement[bool]:
    """The filter as a condition; categories bound as `note_categories`."""
    terms: list[ColumnElement[bool]] = []
    if not filter_.include_hidden:
        terms.append(N.hidden_from_proxies.is_(False))
    if filter_.categories is not None:
        terms.append(
            or_(N.sensitive_category.is_(None), one_of(N.sensitive_category, "note_categories"))
        )
    return and_(true(), *terms)


def _params(filter_: NoteFilter) -> dict[str, Any]:
    return {"note_categories": sorted(c.value for c in filter_.categories or ())}


async def note_pages(
    session: AsyncSession, grants: Sequence[PatientGrant], page: Page
) -> dict[str, PageOf]:
    """Current notes (not superseded) newest first; `page.filter` is (kind or None, filter)
    and every grant of one call shares that filter (the loader groups them so)."""
    kind, filter_ = page.filter

    def query() -> Select[m.ClinicalNote]:
        stmt = select(N).where(N.superseded_by_id.is_(None), _visible(filter_))
        if kind is not None:
            stmt = stmt.where(N.kind == bindparam("kind", type_=N.kind.type))
        return stmt

    shape = ("notes", kind is None, filter_.include_hidden, filter_.categories is None)
    return await pages_per_parent(
        session,
        query,
        N.patient_id,
        patient_ids(grants, RecordArea.CLINICAL_NOTES),
        NOTE_SORT,
        page,
        shape=shape,
        params={"kind": kind, **_params(filter_)},
    )


async def notes_by_id(
    session: AsyncSession, grants: Sequence[PatientGrant], ids: Sequence[str]
) -> list[m.ClinicalNote]:
    """These notes of the grants' patients, whatever the filter (the caller applies
    `note_withheld` to each, to say why one is withheld)."""
    stmt = select(N).where(
        N.id.in_(list(ids)), N.patient_id.in_(patient_ids(grants, RecordArea.CLINICAL_NOTES))
    )
    return list((await session.scalars(stmt)).all())


async def summaries_by_appointment(
    session: AsyncSession, grants: Sequence[PatientGrant], appointment_ids: Sequence[str]
) -> list[m.ClinicalNote]:
    """The current after-visit summaries of these appointments (of the grants' patients)."""
    stmt = select(N).where(
        N.appointment_id.in_(list(appointment_ids)),
        N.patient_id.in_(patient_ids(grants, RecordArea.CLINICAL_NOTES)),
        N.kind == "after_visit_summary",
        N.superseded_by_id.is_(None),
    )
    return list((await session.scalars(stmt)).all())


async def hidden_counts(session: AsyncSession, grants: Sequence[PatientGrant]) -> dict[str, int]:
    """Per patient: current notes hidden from every proxy."""
    stmt = (
        select(N.patient_id, func.count())
        .where(
            N.patient_id.in_(patient_ids(grants, RecordArea.CLINICAL_NOTES)),
            N.hidden_from_proxies.is_(True),
            N.superseded_by_id.is_(None),
        )
        .group_by(N.patient_id)
    )
    return {pid: int(n) for pid, n in (await session.execute(stmt)).all()}
