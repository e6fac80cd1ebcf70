"""The patient record's top level: who they are (the row, read through the DEMOGRAPHICS
grant of any patient the viewer may act for)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from domain.errors import BrokenInvariant
from persistence.queries.people import PatientRow

if TYPE_CHECKING:
    from runtime.context import Context


async def patient_row(ctx: Context, patient_id: str) -> tuple[PatientRow, date]:
    """Any patient the viewer may act for, with today's date for their age; FORBIDDEN
    otherwise (same for unknown ids)."""
    grant = ctx.demographics(patient_id)
    row = await ctx.loaders.patient.get(grant)
    if row is None:
        raise BrokenInvariant("row is None: a patient with a grant exists")
    return row, ctx.services.settings.ages.today(ctx.now)
