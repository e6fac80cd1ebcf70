"""Appointments and open slots."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    cast,
    false,
    not_,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.appointments import ACTIVE_STATUSES
from domain.scopes import RecordArea
from persistence import models as m
from persistence.paging import (
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
from persistence.queries.people import (
    DEPARTMENT_COLUMNS,
    PROVIDER_COLUMNS,
    DepartmentRow,
    ProviderRow,
)


class AppointmentRow(NamedTuple):
    """An appointment as the read path has it (a plain row, no ORM entity)."""

    id: str
    patient_id: str
    provider_id: str
    department_id: str
    visit_type: str
    reason: str | None
    starts_at: datetime
    duration_minutes: int
    status: str
    telehealth: bool
    questionnaire_complete: bool


_APPT, _PROV, _DEPT = m.Appointment.__table__, m.Provider.__table__, m.Department.__table__
UPCOMING_SORT = SortKey((_APPT.c.starts_at, _APPT.c.id), descending=False)
PAST_SORT = SortKey((_APPT.c.starts_at, _APPT.c.id), descending=True)

# Each appointment comes with its provider and department, in the same statement.
_APPOINTMENT_COLUMNS = fields_of(_APPT, AppointmentRow._fields)
_COLUMNS = (*_APPOINTMENT_COLUMNS, *PROVIDER_COLUMNS, *DEPARTMENT_COLUMNS)
_PROVIDER_AT = len(_APPOINTMENT_COLUMNS)
_DEPARTMENT_AT = _PROVIDER_AT + len(PROVIDER_COLUMNS)
WITH_PROVIDER_AND_DEPARTMENT = (
    (_PROV, _PROV.c.id == _APPT.c.provider_id),
    (_DEPT, _DEPT.c.id == _APPT.c.department_id),
)


def _appointment(row: Sequence[Any]) -> AppointmentRow:
    return AppointmentRow._make(row[:_PROVIDER_AT])


class ProvidersAndDepartments:
    """Told each row of `appointment_pages`: the providers and departments in them, by id
    (each made once however many appointments share it)."""

    def __init__(self) -> None:
        self.providers: dict[str, ProviderRow] = {}
        self.departments: dict[str, DepartmentRow] = {}

    def __call__(self, row: Sequence[Any]) -> None:
        provider_id, department_id = row[_PROVIDER_AT], row[_DEPARTMENT_AT]
        if provider_id is not None and provider_id not in self.providers:
            self.providers[provider_id] = ProviderRow._make(row[_PROVIDER_AT:_DEPARTMENT_AT])
        if department_id is not None and department_id not in self.departments:
            self.departments[department_id] = DepartmentRow._make(row[_DEPARTMENT_AT:])


async def appointment_pages(
    session: AsyncSession,
    grants: Sequence[PatientGrant],
    page: Page,
    now: datetime,
    each_row: Callable[[Sequence[Any]], None] | None = None,
) -> dict[str, PageOf]:
    """`page.filter` is "UPCOMING" (soonest first) or "PAST" (latest first); the pages hold
    `AppointmentRow`s. Each appointment is loaded with its provider and department, each
    row of the statement told to `each_row` (`ProvidersAndDepartments` collects them)."""
    return await appointment_read(dialect_of(session), grants, page, now, each_row).run(session)


def appointment_read(
    dialect: str,
    grants: Sequence[PatientGrant],
    page: Page,
    now: datetime,
    each_row: Callable[[Sequence[Any]], None] | None = None,
) -> RowPages[AppointmentRow]:
    """`appointment_pages`' statement for `dialect`, not run yet (`RowPages`)."""
    ids = patient_ids(grants, RecordArea.APPOINTMENTS)
    upcoming = page.filter == "UPCOMING"

    def query() -> Select[Any]:
        at = bindparam("now", type_=_APPT.c.starts_at.type)
        # The statuses a parameter too: a literal list is an IN expanded at every execution.
        active = one_of(_APPT.c.status, "active_statuses")
        if upcoming:
            return select(_APPT).where(_APPT.c.starts_at >= at, active)
        return select(_APPT).where((_APPT.c.starts_at < at) | not_(active))

    return row_pages(
        dialect,
        query,
        _APPT.c.patient_id,
        ids,
        UPCOMING_SORT if upcoming else PAST_SORT,
        page,
        shape=("appointments", upcoming),
        columns=_COLUMNS,
        make=_appointment,
        params={"now": now, "active_statuses": list(ACTIVE_STATUSES)},
        joined=WITH_PROVIDER_AND_DEPARTMENT,
        each_row=each_row,
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
    return or_(*(text.contains(f'"{t}"', autoescape=True) for t in visit_types))
