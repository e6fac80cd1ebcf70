"""Insurance coverages from the EHR feed (COVERAGE_UPDATED): the coverage row is replaced
by what the EHR sends (an upsert by its id); its patient may not change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain import ehr
from persistence import models as m


async def apply_coverage(
    session: AsyncSession, c: ehr.CoverageUpdated, now: datetime
) -> tuple[str, str]:
    if await session.get(m.Patient, c.patient_id) is None:
        raise ehr.unknown("data.patientId", "patient")
    row = await session.get(m.Coverage, c.coverage_id, with_for_update=True)
    if row is not None and row.patient_id != c.patient_id:
        raise ehr.InvalidEvent([ehr.Problem("data.coverageId", "is a coverage of another patient")])
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
    return c.patient_id, c.coverage_id
