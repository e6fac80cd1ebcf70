"""Statements, their line items and payments. Billing belongs to the guarantor: a
statement is read through a BILLING grant for its `guarantor_patient_id`, whoever the
serviced patient of each line is (a parent sees a child's charges on their own statements).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import BigInteger, Select, bindparam, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.scopes import RecordArea
from persistence import models as m
from persistence import raw
from persistence.paging import (
    Page,
    PageOf,
    RowPages,
    SortKey,
    dialect_of,
    fields_of,
    one_of,
    row_pages,
)
from persistence.queries.guard import patient_ids


class StatementRow(NamedTuple):
    """A statement as the read path has it (a plain row, no ORM entity); `paid_cents`: the
    sum of its payments."""

    id: str
    guarantor_patient_id: str
    account_number: str
    statement_date: date
    due_date: date
    status: str
    currency: str
    paid_cents: int | None


class LineRow(NamedTuple):
    """A statement line as the read path has it (what `StatementLineItem` shows)."""

    statement_id: str
    service_date: date
    description: str
    code: str
    charge_cents: int
    insurance_paid_cents: int
    adjustment_cents: int
    patient_cents: int


@dataclass(frozen=True)
class LineItemRow:
    line: LineRow
    guarantor_id: str
    currency: str
    patient_given: str
    patient_preferred: str | None
    patient_family: str

    @property
    def statement_id(self) -> str:
        return self.line.statement_id


_LI, _ST, _PT, _PAY = m.StatementLineItem, m.Statement, m.Patient, m.Payment
_LIT, _STT, _PTT = _LI.__table__, _ST.__table__, _PT.__table__
STATEMENT_SORT = SortKey((_STT.c.statement_date, _STT.c.id), descending=True)


def _sum_of(column: Any, owner: Any) -> Any:
    # SUM of a BIGINT is NUMERIC on PostgreSQL; cents stay integers.
    total = select(func.coalesce(func.sum(column), 0)).where(owner == _STT.c.id)
    return cast(total.scalar_subquery(), BigInteger)


# Each statement of a page with the sum of its payments (for `amountDue`).
_PAYT = _PAY.__table__
PAID_CENTS = _sum_of(_PAYT.c.amount_cents, _PAYT.c.statement_id)
_STATEMENT_COLUMNS = [*fields_of(_STT, StatementRow._fields[:-1]), PAID_CENTS.label("paid_cents")]
_LINE_COLUMNS = fields_of(_LIT, LineRow._fields)
_LINE_AT = len(_STATEMENT_COLUMNS)
_NAMES_AT = _LINE_AT + len(_LINE_COLUMNS)

# The lines of each statement of a page, with the names of the patient each line serviced.
_LINE_PT = _PTT.alias("line_patient")
LINE_PATIENT_NAMES = (_LINE_PT.c.given_name, _LINE_PT.c.preferred_name, _LINE_PT.c.family_name)
WITH_LINES = (
    (_LIT, _LIT.c.statement_id == _STT.c.id),
    (_LINE_PT, _LINE_PT.c.id == _LIT.c.patient_id),
)


def _statement(row: Sequence[Any]) -> StatementRow:
    return StatementRow._make(row[:_LINE_AT])


def line_of(row: Sequence[Any]) -> LineItemRow | None:
    """The line of a row of `statement_pages` (None: the statement has none)."""
    if row[_LINE_AT] is None:
        return None
    given, preferred, family = row[_NAMES_AT:]
    line = LineRow._make(row[_LINE_AT:_NAMES_AT])
    return LineItemRow(line, row[1], row[6], given, preferred, family)


async def statement_pages(
    session: AsyncSession,
    grants: Sequence[PatientGrant],
    page: Page,
    each_row: Callable[[Sequence[Any]], None] | None = None,
) -> dict[str, PageOf]:
    """Newest first; `page.filter` is a statement status ("open", "paid") or None for all;
    the pages hold `StatementRow`s. Each statement comes with its line items in the same
    statement (one row each), each row told to `each_row` (`line_of` reads it)."""
    return await statement_read(dialect_of(session), grants, page, each_row).run(session)


def statement_read(
    dialect: str,
    grants: Sequence[PatientGrant],
    page: Page,
    each_row: Callable[[Sequence[Any]], None] | None = None,
) -> RowPages[StatementRow]:
    """`statement_pages`' statement for `dialect`, not run yet (`RowPages`)."""
    ids = patient_ids(grants, RecordArea.BILLING)
    status = page.filter

    def query() -> Select[Any]:
        if status is None:
            return select(_STT)
        column = _STT.c.status
        return select(_STT).where(column == bindparam("status", type_=column.type))

    return row_pages(
        dialect,
        query,
        _STT.c.guarantor_patient_id,
        ids,
        STATEMENT_SORT,
        page,
        shape=("statements", status is None),
        columns=[*_STATEMENT_COLUMNS, *_LINE_COLUMNS, *LINE_PATIENT_NAMES],
        make=_statement,
        params={"status": status},
        joined=WITH_LINES,
        then_by=[_LIT.c.service_date, _LIT.c.id],
        each_row=each_row,
    )


# Built once per process (persistence/paging.py says why): the dashboard's billing parts.
LINE_ITEMS = (
    select(*_LINE_COLUMNS, _STT.c.guarantor_patient_id, _STT.c.currency)
    .add_columns(_PTT.c.given_name, _PTT.c.preferred_name, _PTT.c.family_name)
    .join(_STT, _STT.c.id == _LIT.c.statement_id)
    .join(_PTT, _PTT.c.id == _LIT.c.patient_id)
    .where(
        one_of(_LIT.c.statement_id, "statement_ids"),
        one_of(_STT.c.guarantor_patient_id, "patient_ids"),
    )
    .order_by(_LIT.c.statement_id, _LIT.c.service_date, _LIT.c.id)
)
PAYMENTS = (
    select(_PAY, _ST.guarantor_patient_id, _ST.currency)
    .join(_ST, _ST.id == _PAY.statement_id)
    .where(
        one_of(_PAY.statement_id, "statement_ids"),
        one_of(_ST.guarantor_patient_id, "patient_ids"),
    )
    .order_by(_PAY.statement_id, _PAY.paid_at, _PAY.id)
)


async def line_items(
    session: AsyncSession, grants: Sequence[PatientGrant], statement_ids: Sequence[str]
) -> list[LineItemRow]:
    """The lines of these statements (only of statements the grants' patients guarantee)."""
    values = {
        "statement_ids": list(statement_ids),
        "patient_ids": patient_ids(grants, RecordArea.BILLING),
    }
    lines = len(_LINE_COLUMNS)
    return [
        LineItemRow(LineRow._make(row[:lines]), *row[lines:])
        for row in await raw.rows(session, LINE_ITEMS, values)
    ]


@dataclass(frozen=True)
class PaymentRow:
    payment: m.Payment
    guarantor_id: str
    currency: str

    @property
    def statement_id(self) -> str:
        return self.payment.statement_id


async def payments(
    session: AsyncSession, grants: Sequence[PatientGrant], statement_ids: Sequence[str]
) -> list[PaymentRow]:
    """The payments on these statements (only of statements the grants' patients guarantee)."""
    values = {
        "statement_ids": list(statement_ids),
        "patient_ids": patient_ids(grants, RecordArea.BILLING),
    }
    return [PaymentRow(*row) for row in (await session.execute(PAYMENTS, values)).all()]


@dataclass(frozen=True)
class OpenStatementTotals:
    guarantor_id: str
    currency: str
    patient_cents: int
    paid_cents: int


OPEN_TOTALS = select(
    _STT.c.guarantor_patient_id,
    _STT.c.currency,
    _sum_of(_LIT.c.patient_cents, _LIT.c.statement_id),
    _sum_of(_PAYT.c.amount_cents, _PAYT.c.statement_id),
).where(
    one_of(_STT.c.guarantor_patient_id, "patient_ids"),
    _STT.c.status == "open",
)


async def open_statement_totals(
    session: AsyncSession, grants: Sequence[PatientGrant]
) -> list[OpenStatementTotals]:
    """Per open statement of each guarantor: patient responsibility of its lines, and paid."""
    return open_totals_of(await raw.rows(session, OPEN_TOTALS, open_totals_values(grants)))


def open_totals_values(grants: Sequence[PatientGrant]) -> dict[str, Any]:
    """The values `OPEN_TOTALS` runs with for these guarantors' grants."""
    return {"patient_ids": patient_ids(grants, RecordArea.BILLING)}


def open_totals_of(rows: Sequence[Sequence[Any]]) -> list[OpenStatementTotals]:
    """`open_statement_totals` of the rows `OPEN_TOTALS` returned."""
    return [OpenStatementTotals(g, c, int(lines), int(paid)) for g, c, lines, paid in rows]


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
