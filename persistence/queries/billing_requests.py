"""Payment-plan and financial-assistance requests of statements, read through the
guarantor's BILLING grant like the statements themselves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries.guard import patient_ids

R = TypeVar("R", m.PaymentPlanRequest, m.FinancialAssistanceRequest)


@dataclass(frozen=True)
class RequestRow(Generic[R]):
    request: R
    guarantor_id: str
    currency: str

    @property
    def statement_id(self) -> str:
        return self.request.statement_id


async def requests_of(
    session: AsyncSession,
    model: type[R],
    grants: Sequence[PatientGrant],
    statement_ids: Sequence[str],
) -> list[RequestRow[R]]:
    """The requests on these statements, oldest first (only statements the grants' patients
    guarantee)."""
    st = m.Statement
    stmt = (
        select(model, st.guarantor_patient_id, st.currency)
        .join(st, st.id == model.statement_id)
        .where(
            model.statement_id.in_(statement_ids),
            st.guarantor_patient_id.in_(patient_ids(grants, RecordArea.BILLING)),
        )
        .order_by(model.statement_id, model.created_at, model.id)
    )
    return [RequestRow(*row) for row in (await session.execute(stmt)).all()]
