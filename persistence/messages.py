"""Writes of secure messages, through the unit of work: threads, messages, attachments,
per-reader read marks and refill requests.

Every method that touches a patient's record takes the `PatientGrant` the resolver got from
the access policy and works on that grant's patient only. Messages are inserted, never
updated or deleted (they are part of the medical record).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.attachments import AcceptedFile
from domain.messages import Category, Route
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries.guard import patient_ids
from persistence.queries.summary import CARE_STATUSES

MESSAGE, INSURANCE_CARD = "message", "insurance_card"

# The record area a reader of an attachment needs, by what the attachment belongs to.
ATTACHMENT_AREAS = {MESSAGE: RecordArea.MESSAGES, INSURANCE_CARD: RecordArea.APPOINTMENTS}


def _patient(grant: PatientGrant, area: RecordArea) -> str:
    return patient_ids([grant], area)[0]


def upsert(session: AsyncSession, model: type[m.Base], values: dict[str, Any]) -> Any:
    """An INSERT that updates the row with the same primary key instead (PostgreSQL, SQLite)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model).values(values)


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- reads needed to decide -----------------------------------------------------------
    async def thread_of(self, grant: PatientGrant, thread_id: str) -> m.MessageThread | None:
        stmt = select(m.MessageThread).where(
            m.MessageThread.id == thread_id,
            m.MessageThread.patient_id == _patient(grant, RecordArea.MESSAGES),
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def care_team(self, grant: PatientGrant) -> tuple[set[str], str | None]:
        """The patient's care team (PCP, providers seen or booked) and PCP, to route a thread.

        The same definition as `Patient.careTeam`; read here for the MESSAGES grant of the
        sender, who need not see the team itself (that is APPOINTMENTS)."""
        patient_id = _patient(grant, RecordArea.MESSAGES)
        pcp = select(m.Patient.pcp_provider_id.label("provider_id")).where(
            m.Patient.id == patient_id
        )
        seen = select(m.Appointment.provider_id.label("provider_id")).where(
            m.Appointment.patient_id == patient_id, m.Appointment.status.in_(CARE_STATUSES)
        )
        team = {row for row in (await self.session.scalars(union_all(pcp, seen))) if row}
        pcp_id = await self.session.scalar(pcp)
        return team, pcp_id

    async def medication(self, grant: PatientGrant, medication_id: str) -> m.Medication | None:
        stmt = select(m.Medication).where(
            m.Medication.id == medication_id,
            m.Medication.patient_id == _patient(grant, RecordArea.MEDICATIONS),
        )
        return (await self.session.scalars(stmt)).one_or_none()

    # -- writes ----------------------------------------------------------------------------
    def add_thread(
        self,
        grant: PatientGrant,
        category: Category,
        subject: str,
        route: Route,
        now: datetime,
    ) -> m.MessageThread:
        thread = m.MessageThread(
            id=m.new_id("thr"),
            patient_id=_patient(grant, RecordArea.MESSAGES),
            subject=subject,
            category=category.value,
            provider_id=route.provider_id,
            care_team=route.pool,
            created_at=now,
            last_message_at=now,
        )
        self.session.add(thread)
        return thread

    def add_message(
        self, thread: m.MessageThread, account_id: str, sender_name: str, body: str, now: datetime
    ) -> m.Message:
        """A message from the patient's side: the patient or a proxy, by account and name."""
        message = m.Message(
            id=m.new_id("msg"),
            thread_id=thread.id,
            sender_kind="patient",
            sender_id=account_id,
            sender_name=sender_name,
            body=body,
            sent_at=now,
        )
        thread.last_message_at = max(thread.last_message_at, now)
        self.session.add(message)
        return message

    def add_attachments(
        self,
        grant: PatientGrant,
        files: Sequence[AcceptedFile],
        keys: Sequence[str],
        account_id: str,
        now: datetime,
        *,
        message_id: str | None = None,
        appointment_id: str | None = None,
    ) -> list[m.Attachment]:
        purpose = MESSAGE if message_id is not None else INSURANCE_CARD
        rows = [
            m.Attachment(
                id=m.new_id("att"),
                patient_id=_patient(grant, ATTACHMENT_AREAS[purpose]),
                purpose=purpose,
                message_id=message_id,
                appointment_id=appointment_id,
                position=position,
                filename=file.filename,
                content_type=file.content_type,
                size_bytes=file.size,
                sha256=file.sha256,
                storage_key=key,
                uploaded_by=account_id,
                created_at=now,
            )
            for position, (file, key) in enumerate(zip(files, keys, strict=True))
        ]
        self.session.add_all(rows)
        return rows

    async def mark_read(self, grant: PatientGrant, thread_id: str, now: datetime) -> None:
        """The grant's reader has read the thread up to `now`; a mark never moves back."""
        _patient(grant, RecordArea.MESSAGES)
        stmt = upsert(
            self.session,
            m.ThreadRead,
            {"thread_id": thread_id, "account_id": grant.account_id, "read_through": now},
        )
        newer = stmt.excluded.read_through > m.ThreadRead.read_through
        stmt = stmt.on_conflict_do_update(
            index_elements=[m.ThreadRead.thread_id, m.ThreadRead.account_id],
            set_={
                "read_through": case(
                    (newer, stmt.excluded.read_through), else_=m.ThreadRead.read_through
                )
            },
        )
        await self.session.execute(stmt)

    def add_refill_request(
        self,
        grant: PatientGrant,
        medication_id: str,
        thread: m.MessageThread,
        pharmacy: str,
        note: str | None,
        now: datetime,
    ) -> m.RefillRequest:
        row = m.RefillRequest(
            id=m.new_id("rfl"),
            patient_id=_patient(grant, RecordArea.MEDICATIONS),
            medication_id=medication_id,
            thread_id=thread.id,
            pharmacy=pharmacy,
            note=note,
            requested_by=grant.account_id,
            created_at=now,
        )
        self.session.add(row)
        return row
