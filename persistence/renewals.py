"""Prescription renewals: asked for by the patient or a proxy with MEDICATIONS, answered by
the prescriber through the EHR feed (PRESCRIPTION_RENEWAL_ANSWERED). An approval renews
the medication (its refills and end date); either answer notifies (MEDICATIONS readers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.renewals import RenewalStatus
from domain.scopes import RecordArea
from persistence import models as m
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

    # -- the prescriber's answer (EHR feed: PRESCRIPTION_RENEWAL_ANSWERED, usecases/ehr.py) --
    async def find(self, renewal_id: str) -> m.PrescriptionRenewal | None:
        return await self._session.get(m.PrescriptionRenewal, renewal_id)

    async def close(
        self, row: m.PrescriptionRenewal, status: RenewalStatus, now: datetime, reason: str | None
    ) -> bool:
        """Move an open renewal to `status`; False if it was answered already."""
        return await move_status(
            self._session,
            m.PrescriptionRenewal,
            row.id,
            expected=OPEN,
            to=status.value,
            now=now,
            denial_reason=reason,
        )

    async def medication(self, row: m.PrescriptionRenewal) -> m.Medication:
        medication = await self._session.get(m.Medication, row.medication_id)
        if medication is None:
            raise LookupError("a renewal's medication is never deleted")
        return medication
