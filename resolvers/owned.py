"""Rows a patient owns, read by id (`node(id)` and friends): the owner's access is checked
first, with the same rules as the paths that reach the row, then the row is read through the
grant. Unknown ids answer like forbidden ones, so ids reveal nothing."""

from __future__ import annotations

from typing import Any

from domain.access import PatientGrant
from persistence import models as m
from persistence.queries import owned
from runtime.context import Context


async def owned_row(
    ctx: Context, model: type[m.Base], object_type: str, row_id: str
) -> tuple[Any, PatientGrant]:
    """Check access to the owner of a patient-owned row, then load it through the grant."""
    ctx.require_principal()
    async with ctx.loaders.session() as session:
        owner = await owned.owner_of(session, model, row_id)
        if owner is None:
            ctx.access("", owned.area_of(model), object_type)  # raises: nobody's row
        grant = ctx.access(owner or "", owned.area_of(model), object_type)
        rows = await owned.owned_by_id(session, model, [grant], [row_id])
    return (rows[0] if rows else None), grant
