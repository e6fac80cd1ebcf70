"""A patient's appointments, one page per list."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from persistence.paging import Page
from schema import appointments as s
from schema.base import Connection, cursor_values, page_size
from schema.enums import AppointmentWhen

if TYPE_CHECKING:
    from schema.base import Info


async def patient_appointments(
    info: Info, grant: PatientGrant, when: AppointmentWhen, first: int | None, after: str | None
) -> Connection[s.Appointment]:
    page = Page(page_size(first), cursor_values(after, [datetime, str]), when.value)
    result = await info.context.loaders.appointment_pages.get((grant, page))
    if result is None:
        raise BrokenInvariant("result is None")
    return Connection.of(result, lambda row: s.Appointment.from_row(row, grant, info))


async def appointment_of(
    info: Info, grant: PatientGrant, appointment_id: str | None
) -> s.Appointment | None:
    """One appointment of the grant's patient by id (batched), e.g. a request's booking."""
    if appointment_id is None:
        return None
    row = await info.context.loaders.appointment.get((grant, appointment_id))
    return s.Appointment.from_row(row, grant, info) if row else None
