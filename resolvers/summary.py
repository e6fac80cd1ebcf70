"""Health summary lists and the care team: one loader call each, then conversion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.access import PatientGrant
from persistence import models as m
from schema import people as people_s
from schema import summary as s
from schema.base import to_global_id

if TYPE_CHECKING:
    from schema.base import Info


async def medications(
    info: Info, grant: PatientGrant, status: s.MedicationStatus | None
) -> list[s.Medication]:
    key = (grant, status.value if status else None)
    rows = await info.context.loaders.medications.get(key)
    return [s.Medication.from_row(row, grant) for row in rows or []]


async def allergies(info: Info, grant: PatientGrant) -> list[s.Allergy]:
    rows = await info.context.loaders.allergies.get(grant)
    return [s.Allergy.from_row(row, grant) for row in rows or []]


async def problems(info: Info, grant: PatientGrant) -> list[s.Problem]:
    rows = await info.context.loaders.problems.get(grant)
    return [s.Problem.from_row(row, grant) for row in rows or []]


async def immunizations(info: Info, grant: PatientGrant) -> list[s.Immunization]:
    rows = await info.context.loaders.immunizations.get(grant)
    return [s.Immunization.from_row(row, grant) for row in rows or []]


def immunization_record_url(grant: PatientGrant) -> str:
    """The printable record (portal/immunization_pdf.py): the same token and area."""
    return f"/patients/{to_global_id('Patient', grant.patient_id)}/immunizations.pdf"


async def care_team(info: Info, grant: PatientGrant) -> list[people_s.Provider]:
    """The PCP first, then the providers the patient has seen or is booked with."""
    rows = await info.context.loaders.care_team.get(grant)
    return [people_s.Provider.from_row(row) for row in rows or []]


# -- node(id): each checks access on the row's owner first (resolvers.nodes.owned_row) ---
async def _node(info: Info, model: type[m.Base], type_name: str, row_id: str) -> tuple[Any, Any]:
    from resolvers.nodes import owned_row  # resolvers.nodes imports this module

    return await owned_row(info, model, type_name, row_id)


async def medication_node(info: Info, row_id: str) -> s.Medication | None:
    row, grant = await _node(info, m.Medication, "Medication", row_id)
    return s.Medication.from_row(row, grant) if row else None


async def allergy_node(info: Info, row_id: str) -> s.Allergy | None:
    row, grant = await _node(info, m.Allergy, "Allergy", row_id)
    return s.Allergy.from_row(row, grant) if row else None


async def problem_node(info: Info, row_id: str) -> s.Problem | None:
    row, grant = await _node(info, m.Problem, "Problem", row_id)
    return s.Problem.from_row(row, grant) if row else None


async def immunization_node(info: Info, row_id: str) -> s.Immunization | None:
    row, grant = await _node(info, m.Immunization, "Immunization", row_id)
    return s.Immunization.from_row(row, grant) if row else None
