"""The health summary (medications, allergies, problems, immunizations) and the care team.

Each function reads its list for every patient of a batch in one statement; the grants
say which patients, and must be for the list's own record area.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import SQLColumnExpression, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.appointments import ACTIVE_STATUSES
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries.guard import patient_ids

Row = TypeVar("Row", m.Medication, m.Allergy, m.Problem, m.Immunization)

# Appointments that make a care relationship: seen (completed) or booked (still active).
CARE_STATUSES = frozenset({"completed", *ACTIVE_STATUSES})


async def _rows(
    session: AsyncSession,
    model: type[Row],
    grants: Sequence[PatientGrant],
    area: RecordArea,
    order_by: Sequence[SQLColumnExpression[Any]],
) -> list[Row]:
    owner: Any = model.__table__.c.patient_id
    stmt = select(model).where(owner.in_(patient_ids(grants, area))).order_by(*order_by)
    return list((await session.scalars(stmt)).all())


async def medications(session: AsyncSession, grants: Sequence[PatientGrant]) -> list[m.Medication]:
    """Active before discontinued, then by name."""
    t = m.Medication
    return await _rows(session, t, grants, RecordArea.MEDICATIONS, [t.status, t.name, t.id])


async def allergies(session: AsyncSession, grants: Sequence[PatientGrant]) -> list[m.Allergy]:
    t = m.Allergy
    return await _rows(session, t, grants, RecordArea.ALLERGIES, [t.substance, t.id])


async def problems(session: AsyncSession, grants: Sequence[PatientGrant]) -> list[m.Problem]:
    """Active before resolved, then by name."""
    t = m.Problem
    return await _rows(session, t, grants, RecordArea.PROBLEMS, [t.status, t.name, t.id])


async def immunizations(
    session: AsyncSession, grants: Sequence[PatientGrant]
) -> list[m.Immunization]:
    """Newest first."""
    t = m.Immunization
    order = [t.administered_on.desc(), t.vaccine, t.id]
    return await _rows(session, t, grants, RecordArea.IMMUNIZATIONS, order)


async def care_teams(
    session: AsyncSession, grants: Sequence[PatientGrant]
) -> list[tuple[str, m.Provider]]:
    """(patient id, provider): the PCP first, then every provider seen or booked, by name.

    One statement: the PCP and the appointment providers are unioned, reduced to one row
    per (patient, provider) keeping the PCP rank, and joined to the providers.
    """
    ids = patient_ids(grants, RecordArea.APPOINTMENTS)
    pcp = select(
        m.Patient.id.label("patient_id"),
        m.Patient.pcp_provider_id.label("provider_id"),
        literal(0).label("rank"),
    ).where(m.Patient.id.in_(ids), m.Patient.pcp_provider_id.is_not(None))
    seen = select(
        m.Appointment.patient_id.label("patient_id"),
        m.Appointment.provider_id.label("provider_id"),
        literal(1).label("rank"),
    ).where(m.Appointment.patient_id.in_(ids), m.Appointment.status.in_(CARE_STATUSES))
    both = union_all(pcp, seen).subquery()
    team = (
        select(both.c.patient_id, both.c.provider_id, func.min(both.c.rank).label("rank"))
        .group_by(both.c.patient_id, both.c.provider_id)
        .subquery()
    )
    stmt = (
        select(team.c.patient_id, m.Provider)
        .join(m.Provider, m.Provider.id == team.c.provider_id)
        .order_by(team.c.patient_id, team.c.rank, m.Provider.display_name, m.Provider.id)
    )
    return [(patient_id, provider) for patient_id, provider in (await session.execute(stmt)).all()]
