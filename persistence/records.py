"""Health readings and records release requests: the writes (through the unit of work) and
the reads loaders make. Reads take PatientGrants: readings need the READINGS area, release
requests the patient's own (self-only) grant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.readings import Reading
from domain.releases import RecordsReleaseStatus, ReleaseRequest
from domain.scopes import RecordArea
from persistence import models as m
from persistence.paging import Page, PageOf, SortKey, pages_per_parent
from persistence.queries.guard import patient_ids, release_patient_id

READING_SORT = SortKey((m.HealthReading.taken_at, m.HealthReading.id), descending=True)


class RecordsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add_reading(self, grant: PatientGrant, reading: Reading, now: datetime) -> m.HealthReading:
        """Written for the patient of a READINGS grant, by the account the grant was issued to."""
        (patient_id,) = patient_ids([grant], RecordArea.READINGS)
        row = m.HealthReading(
            id=m.new_id("hrd"),
            patient_id=patient_id,
            kind=reading.kind.value,
            value=reading.value,
            systolic=reading.systolic,
            diastolic=reading.diastolic,
            unit=reading.unit,
            taken_at=reading.taken_at,
            recorded_at=now,
            recorded_by_account_id=grant.account_id,
        )
        self._session.add(row)
        return row

    def add_release_request(
        self, grant: PatientGrant, request: ReleaseRequest, now: datetime
    ) -> m.RecordsReleaseRequest:
        row = m.RecordsReleaseRequest(
            id=m.new_id("rlr"),
            patient_id=release_patient_id(grant),
            requested_by_account_id=grant.account_id,
            recipient_kind=request.recipient_kind.value,
            recipient_name=request.recipient_name,
            recipient_email=request.email,
            recipient_fax=request.fax,
            recipient_address=asdict(request.address) if request.address else None,
            areas=[a.value for a in request.areas],
            from_date=request.from_date,
            to_date=request.to_date,
            note=request.note,
            status=RecordsReleaseStatus.REQUESTED.value,
            requested_at=now,
            status_changed_at=now,
        )
        self._session.add(row)
        return row


# -- reads (loaders) ---------------------------------------------------------------------
async def reading_pages(
    session: AsyncSession, grants: Sequence[PatientGrant], page: Page
) -> dict[str, PageOf]:
    """Newest first; `page.filter` is (kind, since) with `since` a datetime or None."""
    kind, since = page.filter
    query = select(m.HealthReading).where(m.HealthReading.kind == kind)
    if since is not None:
        query = query.where(m.HealthReading.taken_at >= since)
    ids = patient_ids(grants, RecordArea.READINGS)
    return await pages_per_parent(
        session, query, m.HealthReading.patient_id, ids, READING_SORT, page
    )


async def release_requests(
    session: AsyncSession, grant: PatientGrant
) -> list[m.RecordsReleaseRequest]:
    """The patient's requests, newest first (the patient, or a parent/guardian of a child)."""
    t = m.RecordsReleaseRequest
    stmt = (
        select(t)
        .where(t.patient_id == release_patient_id(grant))
        .order_by(t.requested_at.desc(), t.id.desc())
    )
    return list((await session.scalars(stmt)).all())
