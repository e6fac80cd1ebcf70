"""Rows a patient owns, read by id (`node(id)` and friends): the owner's access is checked
first, with the same rules as the paths that reach the row, then the row is read through the
grant. Unknown ids answer like forbidden ones, so ids reveal nothing."""

from __future__ import annotations

from typing import Any

from domain.access import PatientGrant
from persistence import models as m
from persistence.queries.owned import area_of
from runtime.context import Context


async def owned_row(
    ctx: Context, model: type[m.Base], object_type: str, row_id: str
) -> tuple[Any, PatientGrant]:
    """Check access to the owner of a patient-owned row, then load it through the grant
    (both batched: one statement per kind of row for the whole request)."""
    ctx.require_principal()
    owner = await ctx.loaders.owner_of.get((model, row_id))
    # Nobody's row is refused like another patient's: the policy knows no patient "".
    grant = ctx.access(owner or "", area_of(model), object_type)
    return await ctx.loaders.owned_row.get((model, grant, row_id)), grant
