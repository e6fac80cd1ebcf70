"""What the eligibility rules (domain/eligibility.py) need to know, read in one go: the
patient's age, sex and PCP, when each department and provider last saw them, the
departments' specialties and which providers keep a closed panel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.eligibility import DepartmentFacts, PatientFacts
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries.guard import patient_ids

SEEN = ("completed", "checked_in")  # a visit that took place


async def patient_facts(session: AsyncSession, grant: PatientGrant, now: datetime) -> PatientFacts:
    """Through an APPOINTMENTS grant: the history it reads is the patient's appointments."""
    [patient_id] = patient_ids([grant], RecordArea.APPOINTMENTS)
    p = m.Patient
    row = (
        await session.execute(
            select(p.birth_date, p.sex, p.pcp_provider_id).where(p.id == patient_id)
        )
    ).one()
    a = m.Appointment
    visits = (
        await session.execute(
            select(a.department_id, a.provider_id, func.max(a.starts_at))
            .where(a.patient_id == patient_id, a.starts_at <= now, a.status.in_(SEEN))
            .group_by(a.department_id, a.provider_id)
        )
    ).all()
    by_department: dict[str, datetime] = {}
    by_provider: dict[str, datetime] = {}
    for department_id, provider_id, last in visits:
        last = last if last.tzinfo else last.replace(tzinfo=now.tzinfo)  # SQLite's max()
        by_department[department_id] = max(last, by_department.get(department_id, last))
        by_provider[provider_id] = max(last, by_provider.get(provider_id, last))
    return PatientFacts(row.birth_date, row.sex, row.pcp_provider_id, by_department, by_provider)


async def departments(session: AsyncSession) -> dict[str, DepartmentFacts]:
    d = m.Department
    rows = (await session.execute(select(d.id, d.specialty))).all()
    return {row.id: DepartmentFacts(row.id, row.specialty) for row in rows}


async def closed_panels(session: AsyncSession) -> set[str]:
    """Providers who do not accept new patients."""
    p = m.Provider
    return set(await session.scalars(select(p.id).where(p.accepts_new_patients.is_(False))))
