"""The EHR feed's row reads and writes (the orchestration is usecases/ehr.py), in the
caller's transaction.

`claim` inserts the event's id first: a second delivery of the same id, even a concurrent
one, fails on the primary key and applies nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain import ehr
from persistence import models as m


@dataclass(frozen=True)
class Previous:
    type: str
    fingerprint: str


class EhrRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- once only ----------------------------------------------------------------------
    async def claim(self, event: ehr.Event, now: datetime) -> m.IntegrationEvent:
        """Insert the event's row now (IntegrityError if its id was applied already)."""
        row = m.IntegrationEvent(
            id=event.id,
            type=event.type.value,
            fingerprint=event.fingerprint,
            patient_id=None,
            object_id=None,
            occurred_at=event.occurred_at,
            applied_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        return row

    async def previous(self, event_id: str) -> Previous | None:
        t = m.IntegrationEvent
        stmt = select(t.type, t.fingerprint).where(t.id == event_id)
        found = (await self._session.execute(stmt)).one_or_none()
        return None if found is None else Previous(*found)

    # -- references ---------------------------------------------------------------------
    async def exists(self, model: type[m.Base], row_id: str) -> bool:
        id_column: Any = model.__table__.c.id
        return (
            await self._session.scalar(select(id_column).where(id_column == row_id))
        ) is not None

    async def require(self, model: type[m.Base], row_id: str | None, field: str, what: str) -> None:
        """InvalidEvent unless the referenced row exists (None: nothing referenced)."""
        if row_id is not None and not await self.exists(model, row_id):
            raise ehr.unknown(field, what)

    async def provider(self, provider_id: str) -> m.Provider | None:
        return await self._session.get(m.Provider, provider_id)

    async def department(self, department_id: str) -> m.Department | None:
        return await self._session.get(m.Department, department_id)

    # -- results ------------------------------------------------------------------------
    async def result_for_update(self, result_id: str) -> m.Result | None:
        stmt = select(m.Result).where(m.Result.id == result_id).with_for_update()
        return await self._session.scalar(stmt)

    async def held_by_patient(self, patient_id: str, kind: str) -> bool:
        t = m.ResultHoldPreference
        stmt = select(t.patient_id).where(t.patient_id == patient_id, t.kind == kind)
        return (await self._session.scalar(stmt)) is not None

    async def add_result(self, c: ehr.ResultFinalized) -> m.Result:
        row = m.Result(id=c.result_id, patient_id=c.patient_id, released_at=None)
        _fill(row, c)
        self._session.add(row)
        await self._session.flush()  # the result before its components (foreign key)
        return row

    async def replace_result(self, row: m.Result, c: ehr.ResultFinalized) -> None:
        """A preliminary result finalized, or a final one corrected: new components follow."""
        await self._session.execute(
            delete(m.ResultComponent).where(m.ResultComponent.result_id == row.id)
        )
        _fill(row, c)

    async def add_components(self, row: m.Result, components: Sequence[ehr.Component]) -> None:
        self._session.add_all(
            m.ResultComponent(
                result_id=row.id,
                patient_id=row.patient_id,
                position=position,
                loinc=component.code,
                name=component.name,
                value=component.value,
                value_text=component.value_text,
                unit=component.unit,
                ref_low=component.ref_low,
                ref_high=component.ref_high,
            )
            for position, component in enumerate(components)
        )
        await self._session.flush()

    # -- messages -----------------------------------------------------------------------
    async def thread_for_update(self, thread_id: str) -> m.MessageThread | None:
        stmt = select(m.MessageThread).where(m.MessageThread.id == thread_id).with_for_update()
        return await self._session.scalar(stmt)

    def add_reply(
        self,
        thread: m.MessageThread,
        provider: m.Provider,
        message_id: str | None,
        body: str,
        now: datetime,
    ) -> m.Message:
        message = m.Message(
            id=message_id or m.new_id("msg"),
            thread_id=thread.id,
            sender_kind="provider",
            sender_id=provider.id,
            sender_name=provider.display_name,
            body=body,
            sent_at=now,
        )
        self._session.add(message)
        thread.last_message_at = max(thread.last_message_at, now)
        return message

    # -- statements ---------------------------------------------------------------------
    async def add_statement(self, c: ehr.StatementIssued, status: str) -> None:
        self._session.add(
            m.Statement(
                id=c.statement_id,
                guarantor_patient_id=c.guarantor_patient_id,
                account_number=c.account_number,
                statement_date=c.statement_date,
                due_date=c.due_date,
                status=status,
                currency=c.currency,
            )
        )
        await self._session.flush()  # the statement before its lines (foreign key)
        self._session.add_all(
            m.StatementLineItem(
                id=line.line_id or m.new_id("sli"),
                statement_id=c.statement_id,
                service_date=line.service_date,
                patient_id=line.patient_id,
                description=line.description,
                code=line.code,
                charge_cents=line.charge_cents,
                insurance_paid_cents=line.insurance_paid_cents,
                adjustment_cents=line.adjustment_cents,
                patient_cents=line.patient_cents,
            )
            for line in c.lines
        )

    # -- appointments -------------------------------------------------------------------
    async def appointment_for_update(self, appointment_id: str) -> m.Appointment | None:
        stmt = select(m.Appointment).where(m.Appointment.id == appointment_id).with_for_update()
        return await self._session.scalar(stmt)

    async def free_slot(self, appointment_id: str) -> None:
        """The online slot the appointment held is open again."""
        await self._session.execute(
            update(m.Slot)
            .where(m.Slot.appointment_id == appointment_id)
            .values(appointment_id=None)
        )


def _fill(row: m.Result, c: ehr.ResultFinalized) -> None:
    row.ordering_provider_id = c.ordering_provider_id
    row.name, row.code, row.kind, row.status = c.name, c.code, c.kind, c.status
    row.collected_at, row.resulted_at = c.collected_at, c.resulted_at
    row.provider_comment, row.report = c.provider_comment, c.report
