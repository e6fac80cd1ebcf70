"""A request's status moves only from the one it was checked against (compare-and-set)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.ext.asyncio import AsyncSession

from persistence import models as m

Request = type[m.AppointmentRequest] | type[m.PrescriptionRenewal]


async def move_status(
    session: AsyncSession,
    model: Request,
    row_id: str,
    *,
    expected: str,
    to: str,
    now: datetime,
    **values: Any,
) -> bool:
    """Set `to` (and `values`) if the row still has status `expected`; False if not: a
    concurrent answer or cancellation won."""
    stmt = (
        update(model)
        .where(model.id == row_id, model.status == expected)
        .values(status=to, status_changed_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], await session.execute(stmt)).rowcount == 1
