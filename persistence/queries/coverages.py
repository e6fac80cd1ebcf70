"""A patient's insurance coverages (BILLING) and insurance-card images (APPOINTMENTS): one
statement per batch."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries.guard import patient_ids


async def coverages(session: AsyncSession, grants: Sequence[PatientGrant]) -> list[m.Coverage]:
    t = m.Coverage
    stmt = (
        select(t)
        .where(t.patient_id.in_(patient_ids(grants, RecordArea.BILLING)))
        .order_by(t.priority, t.effective_from.desc(), t.id)
    )
    return list((await session.scalars(stmt)).all())


async def insurance_cards(
    session: AsyncSession, grants: Sequence[PatientGrant]
) -> list[m.Attachment]:
    """Card images sent with eCheck-in (an APPOINTMENTS record, as the download checks),
    newest first."""
    t = m.Attachment
    stmt = (
        select(t)
        .where(t.patient_id.in_(patient_ids(grants, RecordArea.APPOINTMENTS)))
        .where(t.purpose == "insurance_card")
        .order_by(t.created_at.desc(), t.id.desc())
    )
    return list((await session.scalars(stmt)).all())
