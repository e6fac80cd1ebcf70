"""Prescription renewals: asked for by the patient or a proxy with MEDICATIONS, answered by
the prescriber through the EHR feed (PRESCRIPTION_RENEWAL_ANSWERED). An approval renews
the medication (its refills and end date); either answer notifies (MEDICATIONS readers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain import ehr
from domain.access import AgePolicy, PatientGrant
from domain.errors import BrokenInvariant
from domain.renewals import RenewalStatus, answer_notice
from domain.scopes import RecordArea
from persistence import models as m
from persistence.notify import Notice, notify
from persistence.queries.guard import patient_ids
from persistence.status import move_status

OPEN = RenewalStatus.REQUESTED.value


class RenewalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def open_for(self, medication_id: str) -> str | None:
        t = m.PrescriptionRenewal
        stmt = select(t.id).where(t.medication_id == medication_id, t.status == OPEN)
        return await self._session.scalar(stmt.limit(1))

    def add(
        self,
        grant: PatientGrant,
        medication: m.Medication,
        prescriber_id: str,
        pharmacy: str | None,
        note: str | None,
        now: datetime,
    ) -> m.PrescriptionRenewal:
        [patient_id] = patient_ids([grant], RecordArea.MEDICATIONS)
        if medication.patient_id != patient_id:
            raise PermissionError("a renewal of another patient's medication")
        row = m.PrescriptionRenewal(
            id=m.new_id("rnw"),
            patient_id=grant.patient_id,
            medication_id=medication.id,
            prescriber_id=prescriber_id,
            requested_by_account_id=grant.account_id,
            pharmacy=pharmacy,
            note=note,
            status=OPEN,
            denial_reason=None,
            created_at=now,
            status_changed_at=now,
        )
        self._session.add(row)
        return row

    async def answer(
        self, c: ehr.RenewalAnswered, now: datetime, ages: AgePolicy
    ) -> tuple[str, str]:
        row = await self._session.get(m.PrescriptionRenewal, c.renewal_id)
        if row is None:
            raise ehr.unknown("data.renewalId", "prescription renewal")
        ehr.check_owner("data.patientId", c.patient_id, row.patient_id)
        status = RenewalStatus(c.status)
        moved = await move_status(
            self._session,
            m.PrescriptionRenewal,
            row.id,
            expected=OPEN,
            to=status.value,
            now=now,
            denial_reason=c.denial_reason,
        )
        if not moved:
            raise ehr.InvalidEvent([ehr.Problem("data.renewalId", "is not open (answered)")])
        medication = await self._session.get(m.Medication, row.medication_id)
        if medication is None:
            raise BrokenInvariant("medication is None")
        if status is RenewalStatus.APPROVED:
            medication.refills_remaining = c.refills or 0
            medication.end_date = c.end_date
        title, body = answer_notice(status, medication.name)
        notice = Notice(
            "PRESCRIPTION_RENEWAL_ANSWERED", RecordArea.MEDICATIONS, title, body, row.id
        )
        await notify(self._session, row.patient_id, notice, now, ages)
        return row.patient_id, row.id
