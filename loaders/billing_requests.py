"""The latest payment-plan and financial-assistance request of each statement: one statement
per batch whatever the number of statements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic

from sqlalchemy.ext.asyncio import AsyncSession

from loaders.base import SessionLoader
from loaders.billing import StatementKey
from persistence import models as m
from persistence.queries.billing_requests import R, RequestRow, requests_of


class _LatestRequestByStatementLoader(SessionLoader[StatementKey, RequestRow[R]], Generic[R]):
    model: type[R]

    async def fetch(
        self, session: AsyncSession, keys: Sequence[StatementKey]
    ) -> dict[StatementKey, RequestRow[R]]:
        grants = list(dict.fromkeys(g for g, _ in keys))
        rows = await requests_of(session, self.model, grants, list({sid for _, sid in keys}))
        latest = {(row.guarantor_id, row.statement_id): row for row in rows}  # oldest first
        return {
            (g, sid): latest[(g.patient_id, sid)]
            for g, sid in keys
            if (g.patient_id, sid) in latest
        }


class PaymentPlanRequestByStatementLoader(_LatestRequestByStatementLoader[m.PaymentPlanRequest]):
    model = m.PaymentPlanRequest


class AssistanceRequestByStatementLoader(
    _LatestRequestByStatementLoader[m.FinancialAssistanceRequest]
):
    model = m.FinancialAssistanceRequest
