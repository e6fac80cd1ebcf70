"""Appointments and open slots."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, bindparam, cast, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.appointments import ACTIVE_STATUSES
from domain.scopes import RecordArea
from persistence import models as m
from persistence.paging import Page, PageOf, SortKey, pages_per_parent
from persistence.queries.guard import patient_ids

UPCOMING_SORT = SortKey((m.Appointment.starts_at, m.Appointment.id), descending=False)
PAST_SORT = SortKey((m.Appointment.starts_at, m.Appointment.id), descending=True)


# Each appointment comes with its provider and department, in the same statement.
WITH_PROVIDER_AND_DEPARTMENT = (
    (m.Provider, m.Provider.id == m.Appointment.provider_id),
    (m.Department, m.Department.id == m.Appointment.department_id),
)


async def appointment_pages(
    session: AsyncSession,
    grants: Sequence[PatientGrant],
    page: Page,
    now: datetime,
    each_joined: Callable[[Sequence[Any]], None] | None = None,
) -> dict[str, PageOf]:
    """`page.filter` is "UPCOMING" (soonest first) or "PAST" (latest first). Each page's
    appointments are loaded with their provider and department, told to `each_joined` as
    (appointment, provider, department) rows."""
    ids = patient_ids(grants, RecordArea.APPOINTMENTS)
    upcoming = page.filter == "UPCOMING"

    def query() -> Select[m.Appointment]:
        at = bindparam("now", type_=m.Appointment.starts_at.type)
        if upcoming:
            return select(m.Appointment).where(
                m.Appointment.starts_at >= at, m.Appointment.status.in_(ACTIVE_STATUSES)
            )
        return select(m.Appointment).where(
            (m.Appointment.starts_at < at) | m.Appointment.status.not_in(ACTIVE_STATUSES)
        )

    return await pages_per_parent(
        session,
        query,
        m.Appointment.patient_id,
        ids,
        UPCOMING_SORT if upcoming else PAST_SORT,
        page,
        shape=("appointments", upcoming),
        params={"now": now},
        joined=WITH_PROVIDER_AND_DEPARTMENT,
        each_joined=each_joined,
    )


async def appointments_by_id(
    session: AsyncSession, grants: Sequence[PatientGrant], ids: Sequence[str]
) -> list[m.Appointment]:
    stmt = select(m.Appointment).where(
        m.Appointment.id.in_(ids),
        m.Appointment.patient_id.in_(patient_ids(grants, RecordArea.APPOINTMENTS)),
    )
    return list((await session.scalars(stmt)).all())


SLOT_SORT = SortKey((m.Slot.starts_at, m.Slot.id), descending=False)


def open_slots_query(
    *,
    now: datetime,
    department_id: str | None,
    provider_id: str | None,
    visit_type: str | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    bookable: Mapping[str, Sequence[str]] | None = None,
    closed_providers: Collection[str] = (),
) -> Select[m.Slot]:
    """`bookable`: department id -> the visit types one patient may book there (only slots
    offering one of them); `closed_providers`: providers whose slots that patient may not
    book (domain/eligibility.py)."""
    stmt = select(m.Slot).where(m.Slot.appointment_id.is_(None), m.Slot.starts_at > now)
    if bookable is not None:
        stmt = stmt.where(
            or_(
                false(),
                *(
                    and_(m.Slot.department_id == department_id, _offers_any(types))
                    for department_id, types in sorted(bookable.items())
                    if types
                ),
            )
        )
    if closed_providers:
        stmt = stmt.where(m.Slot.provider_id.not_in(sorted(closed_providers)))
    if department_id:
        stmt = stmt.where(m.Slot.department_id == department_id)
    if provider_id:
        stmt = stmt.where(m.Slot.provider_id == provider_id)
    if starts_after:
        stmt = stmt.where(m.Slot.starts_at >= starts_after)
    if starts_before:
        stmt = stmt.where(m.Slot.starts_at < starts_before)
    if visit_type:
        stmt = stmt.where(_offers_any([visit_type]))
    return stmt


def _offers_any(visit_types: Sequence[str]) -> ColumnElement[bool]:
    # visit_types is a JSON list; matching its text form works on SQLite and PostgreSQL.
    text = cast(m.Slot.visit_types, String)
    return or_(*(text.contains(f'"{t}"') for t in visit_types))
