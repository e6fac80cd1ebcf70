"""Statements per guarantor, and the lines and payments of statements: one statement per
batch whatever the number of patients or statements."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.base import PatientPageLoader, Plan, Read, SessionLoader, SessionSource
from persistence import models as m
from persistence.paging import Page, PageOf
from persistence.queries import billing
from persistence.queries.billing import (
    LineItemRow,
    OpenStatementTotals,
    PaymentRow,
    RequestRow,
    requests_of,
)
from persistence.queries.billing import (
    R as Request,
)


class StatementPageByGuarantorLoader(PatientPageLoader):
    """Pages of statements, each loaded with its line items in the same statement: they
    prime the request's line-item loader, so `lineItems` and `amountDue` cost none."""

    def __init__(self, sessions: SessionSource, lines: LineItemsByStatementLoader) -> None:
        super().__init__(sessions)
        self.lines = lines

    def page_read(
        self, grants: Sequence[PatientGrant], page: Page, dialect: str
    ) -> Read[dict[str, PageOf]]:
        found: dict[str, list[LineItemRow]] = {}

        def collect(row: Sequence[Any]) -> None:
            listed = found.setdefault(row[0], [])  # none: an empty list, still known
            line = billing.line_of(row)
            if line is not None:
                listed.append(line)

        read = billing.statement_read(dialect, grants, page, collect)

        def finish(rows: Sequence[Sequence[Any]]) -> dict[str, PageOf]:
            pages = read.pages(rows)
            for grant in grants:
                for statement in pages[grant.patient_id].rows:
                    self.lines.prime((grant, statement.id), found.get(statement.id, []))
            return pages

        return Read(read.statement, read.values, finish)


class _OfStatement(Protocol):
    @property
    def guarantor_id(self) -> str: ...
    @property
    def statement_id(self) -> str: ...


R = TypeVar("R", bound=_OfStatement)
StatementKey = tuple[PatientGrant, str]  # the guarantor's BILLING grant, a statement id


def _by_statement(keys: Sequence[StatementKey], rows: list[R]) -> dict[StatementKey, list[R]]:
    """Rows grouped under their key; a row counts only under its own guarantor's grant."""
    grouped: dict[tuple[str, str], list[R]] = defaultdict(list)
    for row in rows:
        grouped[(row.guarantor_id, row.statement_id)].append(row)
    return {(g, sid): grouped.get((g.patient_id, sid), []) for g, sid in keys}


class LineItemsByStatementLoader(SessionLoader[StatementKey, list[LineItemRow]]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[StatementKey]
    ) -> dict[StatementKey, list[LineItemRow]]:
        grants = list(dict.fromkeys(g for g, _ in keys))
        rows = await billing.line_items(session, grants, list({sid for _, sid in keys}))
        return _by_statement(keys, rows)


class PaymentsByStatementLoader(SessionLoader[StatementKey, list[PaymentRow]]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[StatementKey]
    ) -> dict[StatementKey, list[PaymentRow]]:
        grants = list(dict.fromkeys(g for g, _ in keys))
        rows = await billing.payments(session, grants, list({sid for _, sid in keys}))
        return _by_statement(keys, rows)


class OpenTotalsByGuarantorLoader(SessionLoader[PatientGrant, list[OpenStatementTotals]]):
    def plan(
        self, keys: Sequence[PatientGrant], dialect: str
    ) -> Plan[PatientGrant, list[OpenStatementTotals]]:
        values = billing.open_totals_values(list(dict.fromkeys(keys)))

        def found(
            outcomes: list[list[OpenStatementTotals]],
        ) -> dict[PatientGrant, list[OpenStatementTotals]]:
            grouped: dict[str, list[OpenStatementTotals]] = defaultdict(list)
            for row in outcomes[0]:
                grouped[row.guarantor_id].append(row)
            return {k: grouped.get(k.patient_id, []) for k in keys}

        return Plan([Read(billing.OPEN_TOTALS, values, billing.open_totals_of)], found)


class _LatestRequestByStatementLoader(
    SessionLoader[StatementKey, RequestRow[Request]], Generic[Request]
):
    model: type[Request]

    async def fetch(
        self, session: AsyncSession, keys: Sequence[StatementKey]
    ) -> dict[StatementKey, RequestRow[Request]]:
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
