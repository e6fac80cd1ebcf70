"""Health summary lists and the care team: one loader call each; rows out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.access import PatientGrant
from persistence import models as m
from resolvers.owned import owned_row

if TYPE_CHECKING:
    from runtime.context import Context


async def medications(ctx: Context, grant: PatientGrant, status: str | None) -> list[m.Medication]:
    return await ctx.loaders.medications.get((grant, status)) or []


async def allergies(ctx: Context, grant: PatientGrant) -> list[m.Allergy]:
    return await ctx.loaders.allergies.get(grant) or []


async def problems(ctx: Context, grant: PatientGrant) -> list[m.Problem]:
    return await ctx.loaders.problems.get(grant) or []


async def immunizations(ctx: Context, grant: PatientGrant) -> list[m.Immunization]:
    return await ctx.loaders.immunizations.get(grant) or []


async def care_team(ctx: Context, grant: PatientGrant) -> list[m.Provider]:
    """The PCP first, then the providers the patient has seen or is booked with."""
    return await ctx.loaders.care_team.get(grant) or []


async def medication(ctx: Context, row_id: str) -> tuple[m.Medication | None, PatientGrant]:
    """node(id) of a summary entry: access to the row's owner first, then the row."""
    return await owned_row(ctx, m.Medication, "Medication", row_id)


async def allergy(ctx: Context, row_id: str) -> tuple[m.Allergy | None, PatientGrant]:
    return await owned_row(ctx, m.Allergy, "Allergy", row_id)


async def problem(ctx: Context, row_id: str) -> tuple[m.Problem | None, PatientGrant]:
    return await owned_row(ctx, m.Problem, "Problem", row_id)


async def immunization(ctx: Context, row_id: str) -> tuple[m.Immunization | None, PatientGrant]:
    return await owned_row(ctx, m.Immunization, "Immunization", row_id)
