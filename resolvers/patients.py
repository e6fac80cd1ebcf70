"""The patient record's top level: who they are and who cares for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.errors import BrokenInvariant
from resolvers import people as people_r
from schema import patient as s
from schema.base import internal_id

if TYPE_CHECKING:
    from schema.base import Info
    from schema.people import Provider


async def patient(info: Info, patient_id: str) -> s.Patient:
    """Any patient the viewer may act for; FORBIDDEN otherwise (same for unknown ids)."""
    grant = info.context.demographics(patient_id)
    row = await info.context.loaders.patient.get(grant)
    if row is None:
        raise BrokenInvariant("row is None: a patient with a grant exists")
    today = info.context.services.settings.ages.today(info.context.now)
    return s.Patient.from_row(row, today)


async def primary_care_provider(info: Info, provider_id: str | None) -> Provider | None:
    return await people_r.provider(info, provider_id)


async def patient_by_global_id(info: Info, global_id: str) -> s.Patient:
    return await patient(info, internal_id(global_id, "Patient"))
