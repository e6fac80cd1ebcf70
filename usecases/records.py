"""recordHealthReading and requestRecordsRelease (rules: domain/readings.py and
domain/releases.py): each checks the request, then stores it in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.access import PatientGrant
from domain.readings import ReadingKind, check_reading
from domain.releases import PostalAddress, RecipientKind, check_release_request
from domain.scopes import RecordArea
from persistence import models as m
from persistence.uow import UnitOfWork


@dataclass(frozen=True)
class RecordHealthReading:
    patient_id: str
    kind: ReadingKind
    unit: str
    taken_at: datetime
    value: float | None
    systolic: int | None
    diastolic: int | None


@dataclass(frozen=True)
class RequestRecordsRelease:
    patient_id: str
    recipient_kind: RecipientKind
    recipient_name: str | None
    email: str | None
    fax: str | None
    address: PostalAddress | None
    areas: list[RecordArea] | None
    from_date: date | None
    to_date: date | None
    note: str | None


async def record_health_reading(
    command: RecordHealthReading, grant: PatientGrant, uow: UnitOfWork, now: datetime
) -> m.HealthReading:
    """`grant`: READINGS of the patient (checked by the caller)."""
    reading = check_reading(
        kind=command.kind,
        unit=command.unit,
        taken_at=command.taken_at,
        now=now,
        value=command.value,
        systolic=command.systolic,
        diastolic=command.diastolic,
    )
    async with uow:
        row = uow.records.add_reading(grant, reading, now)
        await uow.commit()
    return row


async def request_records_release(
    command: RequestRecordsRelease, grant: PatientGrant, uow: UnitOfWork, now: datetime, today: date
) -> m.RecordsReleaseRequest:
    """`grant`: the records-release grant of the patient (self, or a parent or guardian of a
    child; checked by the caller)."""
    request = check_release_request(
        recipient_kind=command.recipient_kind,
        recipient_name=command.recipient_name,
        email=command.email,
        fax=command.fax,
        address=command.address,
        areas=command.areas,
        from_date=command.from_date,
        to_date=command.to_date,
        note=command.note,
        today=today,
    )
    async with uow:
        row = uow.records.add_release_request(grant, request, now)
        await uow.commit()
    return row
