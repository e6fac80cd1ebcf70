"""Writes of billing, through a unit of work: payment attempts (idempotency keys), payments,
payment-plan and financial-assistance requests.

Every write that depends on what is due starts with `lock_statement`: a no-op UPDATE of the
statement row. It holds the row lock on PostgreSQL and the write lock on SQLite until the
transaction ends, so concurrent payments of one statement decide one after the other, each
seeing what the previous one committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import BigInteger, CursorResult, delete, func, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing import StatementBalance
from persistence import models as m

PENDING, SUCCEEDED, DECLINED = "pending", "succeeded", "declined"
REQUESTED = "requested"


class DuplicateAttempt(Exception):
    """Another request of the account stored the same idempotency key first."""


class AttemptEnded(RuntimeError):
    """The attempt is no longer pending: another process settled or released it first."""


@dataclass(frozen=True)
class PendingAttempt:
    id: str
    account_id: str
    idempotency_key: str
    statement_id: str
    amount_cents: int


@dataclass(frozen=True)
class StoredAttempt:
    id: str
    statement_id: str
    amount_cents: int
    status: str
    decline_reason: str | None
    payment_id: str | None


def _total(column: Any, owner: Any, statement_id: str, *where: Any) -> Any:
    # SUM of a BIGINT is NUMERIC on PostgreSQL; cents stay integers.
    total = select(func.coalesce(func.sum(column), 0)).where(owner == statement_id, *where)
    return sql_cast(total.scalar_subquery(), BigInteger)


class BillingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- statements ----------------------------------------------------------------------
    async def guarantor_of(self, statement_id: str) -> str | None:
        """Whose statement it is (to check access before anything else is read)."""
        st = m.Statement
        return await self._session.scalar(
            select(st.guarantor_patient_id).where(st.id == statement_id)
        )

    async def lock_statement(self, statement_id: str) -> bool:
        """Lock the statement row until the transaction ends; False if there is none."""
        st = m.Statement
        lock = update(st).where(st.id == statement_id).values(status=st.status)
        result = await self._session.execute(lock.execution_options(synchronize_session=False))
        return cast(CursorResult[Any], result).rowcount == 1

    async def balance(self, statement_id: str) -> StatementBalance:
        """Status, amounts due and in flight, as this transaction sees them now."""
        st, li, pay, att = m.Statement, m.StatementLineItem, m.Payment, m.PaymentAttempt
        stmt = select(
            st.status,
            st.currency,
            _total(li.patient_cents, li.statement_id, statement_id),
            _total(pay.amount_cents, pay.statement_id, statement_id),
            _total(att.amount_cents, att.statement_id, statement_id, att.status == PENDING),
        ).where(st.id == statement_id)
        status, currency, lines, paid, in_flight = (await self._session.execute(stmt)).one()
        return StatementBalance(status, currency, int(lines), int(paid), int(in_flight))

    async def mark_paid(self, statement_id: str) -> None:
        st = m.Statement
        stmt = update(st).where(st.id == statement_id, st.status == "open").values(status="paid")
        await self._session.execute(stmt.execution_options(synchronize_session=False))

    async def statement(self, statement_id: str) -> m.Statement | None:
        return await self._session.get(m.Statement, statement_id)

    # -- payment attempts ----------------------------------------------------------------
    async def attempt(self, account_id: str, idempotency_key: str) -> StoredAttempt | None:
        att = m.PaymentAttempt
        stmt = select(
            att.id,
            att.statement_id,
            att.amount_cents,
            att.status,
            att.decline_reason,
            att.payment_id,
        ).where(att.account_id == account_id, att.idempotency_key == idempotency_key)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else StoredAttempt(*row)

    async def pending_attempts(self, started_before: datetime, limit: int) -> list[PendingAttempt]:
        """Attempts still pending that started before `started_before`, oldest first."""
        att = m.PaymentAttempt
        stmt = (
            select(att.id, att.account_id, att.idempotency_key, att.statement_id, att.amount_cents)
            .where(att.status == PENDING, att.created_at < started_before)
            .order_by(att.created_at, att.id)
            .limit(limit)
        )
        return [PendingAttempt(*row) for row in (await self._session.execute(stmt)).all()]

    async def add_attempt(
        self,
        *,
        account_id: str,
        idempotency_key: str,
        statement_id: str,
        amount_cents: int,
        now: datetime,
    ) -> str:
        """Store a pending attempt; DuplicateAttempt if the key is taken (the transaction is
        then unusable: roll it back)."""
        attempt_id = m.new_id("pat")
        self._session.add(
            m.PaymentAttempt(
                id=attempt_id,
                account_id=account_id,
                idempotency_key=idempotency_key,
                statement_id=statement_id,
                amount_cents=amount_cents,
                status=PENDING,
                decline_reason=None,
                payment_id=None,
                gateway_reference=None,
                created_at=now,
                completed_at=None,
            )
        )
        try:
            await self._session.flush()
        except IntegrityError as exc:
            raise DuplicateAttempt() from exc
        return attempt_id

    async def settle_approved(
        self,
        attempt_id: str,
        *,
        statement_id: str,
        amount_cents: int,
        method: str,
        gateway_reference: str | None,
        now: datetime,
    ) -> str:
        """Record the payment the gateway approved and end the attempt with it."""
        payment_id = m.new_id("pay")
        self._session.add(
            m.Payment(
                id=payment_id,
                statement_id=statement_id,
                amount_cents=amount_cents,
                paid_at=now,
                method=method,
            )
        )
        await self._session.flush()
        await self._end_attempt(
            attempt_id,
            status=SUCCEEDED,
            payment_id=payment_id,
            gateway_reference=gateway_reference,
            completed_at=now,
        )
        return payment_id

    async def settle_declined(self, attempt_id: str, reason: str | None, now: datetime) -> None:
        await self._end_attempt(
            attempt_id, status=DECLINED, decline_reason=(reason or "")[:200], completed_at=now
        )

    async def forget_attempt(self, attempt_id: str) -> None:
        """The gateway could not be asked: free the key (and the amount it held) for a retry."""
        att = m.PaymentAttempt
        stmt = delete(att).where(att.id == attempt_id, att.status == PENDING)
        await self._session.execute(stmt.execution_options(synchronize_session=False))

    async def _end_attempt(self, attempt_id: str, **values: Any) -> None:
        att = m.PaymentAttempt
        stmt = update(att).where(att.id == attempt_id, att.status == PENDING).values(**values)
        result = await self._session.execute(stmt.execution_options(synchronize_session=False))
        if cast(CursorResult[Any], result).rowcount != 1:
            raise AttemptEnded("a payment attempt was settled twice")

    async def payment(self, payment_id: str) -> m.Payment | None:
        return await self._session.get(m.Payment, payment_id)

    # -- requests --------------------------------------------------------------------------
    async def open_plan_request(self, statement_id: str) -> bool:
        return await self._open(m.PaymentPlanRequest, statement_id)

    async def open_assistance_request(self, statement_id: str) -> bool:
        return await self._open(m.FinancialAssistanceRequest, statement_id)

    async def _open(
        self, model: type[m.PaymentPlanRequest | m.FinancialAssistanceRequest], statement_id: str
    ) -> bool:
        stmt = select(model.id).where(model.statement_id == statement_id, model.status == REQUESTED)
        return (await self._session.scalar(stmt.limit(1))) is not None

    def add_plan_request(
        self,
        *,
        statement_id: str,
        account_id: str,
        months: int,
        installment_cents: int,
        now: datetime,
    ) -> m.PaymentPlanRequest:
        row = m.PaymentPlanRequest(
            id=m.new_id("ppr"),
            statement_id=statement_id,
            account_id=account_id,
            months=months,
            installment_cents=installment_cents,
            status=REQUESTED,
            created_at=now,
        )
        self._session.add(row)
        return row

    def add_assistance_request(
        self,
        *,
        statement_id: str,
        account_id: str,
        household_size: int,
        annual_income_cents: int,
        note: str | None,
        now: datetime,
    ) -> m.FinancialAssistanceRequest:
        row = m.FinancialAssistanceRequest(
            id=m.new_id("far"),
            statement_id=statement_id,
            account_id=account_id,
            household_size=household_size,
            annual_income_cents=annual_income_cents,
            note=note,
            status=REQUESTED,
            created_at=now,
        )
        self._session.add(row)
        return row
