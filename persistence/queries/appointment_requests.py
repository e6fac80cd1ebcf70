"""A patient's appointment requests, through the APPOINTMENTS grant: one statement per batch."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries.guard import patient_ids


async def appointment_requests(
    session: AsyncSession, grants: Sequence[PatientGrant]
) -> list[m.AppointmentRequest]:
    t = m.AppointmentRequest
    stmt = (
        select(t)
        .where(t.patient_id.in_(patient_ids(grants, RecordArea.APPOINTMENTS)))
        .order_by(t.created_at.desc(), t.id.desc())
    )
    return list((await session.scalars(stmt)).all())
