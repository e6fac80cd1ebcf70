"""The patient record's top level: who they are (the row, read through the DEMOGRAPHICS
grant of any patient the viewer may act for)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from domain.errors import BrokenInvariant
from persistence import models as m

if TYPE_CHECKING:
    from runtime.context import Context
    from schema.base import Info
    from schema.patients import Patient


async def patient_row(ctx: Context, patient_id: str) -> tuple[m.Patient, date]:
    """Any patient the viewer may act for, with today's date for their age; FORBIDDEN
    otherwise (same for unknown ids)."""
    grant = ctx.demographics(patient_id)
    row = await ctx.loaders.patient.get(grant)
    if row is None:
        raise BrokenInvariant("row is None: a patient with a grant exists")
    return row, ctx.services.settings.ages.today(ctx.now)


# For the callers that still take a Patient type from here (other areas' resolvers,
# schema/query.py): they move to `schema.patients.Patient.of`, then these go (issue 14).
async def patient(info: Info, patient_id: str) -> Patient:
    from schema.patients import Patient

    return await Patient.of(info, patient_id)


async def patient_by_global_id(info: Info, global_id: str) -> Patient:
    from schema.base import internal_id

    return await patient(info, internal_id(global_id, "Patient"))
