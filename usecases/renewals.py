"""requestRenewal (domain/renewals.py): a new prescription asked of the prescriber."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain import renewals as rules
from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from persistence import models as m
from persistence.uow import UnitOfWork


@dataclass(frozen=True)
class RequestRenewal:
    medication_id: str
    pharmacy: str | None
    note: str | None


@dataclass(frozen=True)
class Requested:
    renewal: m.PrescriptionRenewal
    medication: m.Medication
    grant: PatientGrant  # the medication's patient's, for reading both back


async def request_renewal(
    command: RequestRenewal, grant: PatientGrant, uow: UnitOfWork, now: datetime, today: date
) -> Requested:
    """`grant`: the MEDICATIONS grant of the medication's patient (checked by the caller)."""
    async with uow:
        medication = await uow.messages.medication(grant, command.medication_id)
        if medication is None:
            raise BrokenInvariant("medication is None: its owner was found a moment ago")
        facts = rules.PrescriptionFacts(
            medication.status,
            medication.refills_remaining,
            medication.end_date,
            medication.prescriber_id,
        )
        note = rules.check_renewal(facts, command.note, today)
        if await uow.renewals.open_for(medication.id) is not None:
            raise rules.AlreadyRequested(field="medicationId")
        pharmacy = " ".join((command.pharmacy or "").split())[:200] or medication.pharmacy
        if medication.prescriber_id is None:
            raise BrokenInvariant("medication.prescriber_id is None")
        row = uow.renewals.add(grant, medication, medication.prescriber_id, pharmacy, note, now)
        await uow.commit()
    return Requested(row, medication, grant)
