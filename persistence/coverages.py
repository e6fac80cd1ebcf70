"""Insurance coverages from the EHR feed (COVERAGE_UPDATED, usecases/ehr.py): the coverage
row is replaced by what the EHR sends (an upsert by its id); its patient may not change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain import ehr
from persistence import models as m


async def coverage_for_update(session: AsyncSession, coverage_id: str) -> m.Coverage | None:
    return await session.get(m.Coverage, coverage_id, with_for_update=True)


def write_coverage(
    session: AsyncSession, row: m.Coverage | None, c: ehr.CoverageUpdated, now: datetime
) -> m.Coverage:
    """Replace the row's fields with the event's (None: a new coverage)."""
    if row is None:
        row = m.Coverage(id=c.coverage_id, patient_id=c.patient_id)
        session.add(row)
    row.priority, row.payer, row.plan = c.priority, c.payer, c.plan
    row.member_id, row.group_number = c.member_id, c.group_number
    row.subscriber_name, row.subscriber_relation = c.subscriber_name, c.subscriber_relation
    row.effective_from, row.effective_to, row.currency = (
        c.effective_from,
        c.effective_to,
        c.currency,
    )
    row.copays = [{"service": p.service, "amount_cents": p.amount_cents} for p in c.copays]
    row.deductible_cents, row.deductible_met_cents = c.deductible_cents, c.deductible_met_cents
    row.out_of_pocket_max_cents = c.out_of_pocket_max_cents
    row.out_of_pocket_met_cents = c.out_of_pocket_met_cents
    row.updated_at = now
    return row
