"""Patient-owned rows by id: who owns one (to check access), then the row through its grant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from domain.access import PatientGrant
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries.guard import patient_ids

# Each owned kind: its owner column and the area a reader needs.
OWNERS: dict[type[m.Base], tuple[InstrumentedAttribute[str], RecordArea]] = {
    m.Appointment: (m.Appointment.patient_id, RecordArea.APPOINTMENTS),
    m.Result: (m.Result.patient_id, RecordArea.RESULTS),
    m.MessageThread: (m.MessageThread.patient_id, RecordArea.MESSAGES),
    m.Medication: (m.Medication.patient_id, RecordArea.MEDICATIONS),
    m.Allergy: (m.Allergy.patient_id, RecordArea.ALLERGIES),
    m.Problem: (m.Problem.patient_id, RecordArea.PROBLEMS),
    m.Immunization: (m.Immunization.patient_id, RecordArea.IMMUNIZATIONS),
    m.Statement: (m.Statement.guarantor_patient_id, RecordArea.BILLING),
    m.HealthReading: (m.HealthReading.patient_id, RecordArea.READINGS),
    m.ClinicalNote: (m.ClinicalNote.patient_id, RecordArea.CLINICAL_NOTES),
    m.AppointmentRequest: (m.AppointmentRequest.patient_id, RecordArea.APPOINTMENTS),
    m.PrescriptionRenewal: (m.PrescriptionRenewal.patient_id, RecordArea.MEDICATIONS),
    m.Coverage: (m.Coverage.patient_id, RecordArea.BILLING),
}


def area_of(model: type[m.Base]) -> RecordArea:
    return OWNERS[model][1]


async def owner_of(session: AsyncSession, model: type[m.Base], row_id: str) -> str | None:
    """The patient who owns a row; says nothing else about it (used before the access check)."""
    owner, _area = OWNERS[model]
    id_column: Any = model.__table__.c.id
    return await session.scalar(select(owner).where(id_column == row_id))


def owner_column_value(model: type[m.Base], row: Any) -> str:
    """The owning patient's id of a row of `model` (a statement's guarantor, else its patient)."""
    owner, _area = OWNERS[model]
    return str(getattr(row, owner.key))


async def owners_of(
    session: AsyncSession, model: type[m.Base], ids: Sequence[str]
) -> dict[str, str]:
    """Row id -> the patient who owns it, for the rows that exist (one statement)."""
    owner, _area = OWNERS[model]
    id_column: Any = model.__table__.c.id
    rows = await session.execute(select(id_column, owner).where(id_column.in_(ids)))
    return {row_id: patient_id for row_id, patient_id in rows}


async def owned_by_id(
    session: AsyncSession, model: type[m.Base], grants: Sequence[PatientGrant], ids: Sequence[str]
) -> list[Any]:
    owner, area = OWNERS[model]
    id_column: Any = model.__table__.c.id
    stmt = select(model).where(id_column.in_(ids), owner.in_(patient_ids(grants, area)))
    return list((await session.scalars(stmt)).all())
