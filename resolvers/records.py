"""Health readings and records release requests: the mutations and the Patient fields.

Who may do what (docs/health-record.md):
- readings are the READINGS area (scope HEALTH_SUMMARY): the patient and proxies whose
  grant allows it read and record them; a parent of an adolescent does not (configurable);
- records release requests are the patient's own: a proxy gets FORBIDDEN (SELF_ONLY).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from domain.readings import ReadingKind, check_reading
from domain.releases import PostalAddress, check_release_request
from domain.scopes import RecordArea
from persistence import models as m
from persistence.paging import Page
from persistence.uow import UnitOfWork
from resolvers.payloads import user_errors
from schema import records as s
from schema.base import BadInput, Connection, cursor_values, internal_id, page_size

if TYPE_CHECKING:
    from schema.base import Info


@user_errors(
    s.RecordHealthReadingPayload, s.RecordHealthReadingError, s.RecordHealthReadingErrorCode
)
async def record_health_reading(
    info: Info, input: s.RecordHealthReadingInput
) -> s.RecordHealthReadingPayload:
    ctx = info.context
    grant = ctx.act(internal_id(input.patient_id, "Patient"), RecordArea.READINGS, "HealthReading")
    reading = check_reading(
        kind=input.kind,
        unit=input.unit,
        taken_at=input.taken_at,
        now=ctx.now,
        value=input.value,
        systolic=input.systolic,
        diastolic=input.diastolic,
    )
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        row = uow.records.add_reading(grant, reading, ctx.now)
        await uow.commit()
    return s.RecordHealthReadingPayload(reading=s.HealthReading.from_row(row))


@user_errors(
    s.RequestRecordsReleasePayload, s.RequestRecordsReleaseError, s.RequestRecordsReleaseErrorCode
)
async def request_records_release(
    info: Info, input: s.RequestRecordsReleaseInput
) -> s.RequestRecordsReleasePayload:
    ctx = info.context
    patient_id = internal_id(input.patient_id, "Patient")
    grant = ctx.records_release(patient_id, "RecordsReleaseRequest", write=True)
    address = input.recipient_address
    request = check_release_request(
        recipient_kind=input.recipient_kind,
        recipient_name=input.recipient_name,
        email=input.recipient_email,
        fax=input.recipient_fax,
        address=PostalAddress(
            address.line1, address.line2, address.city, address.state, address.postal_code
        )
        if address is not None
        else None,
        areas=input.areas,
        from_date=input.from_date,
        to_date=input.to_date,
        note=input.note,
        today=ctx.services.settings.ages.today(ctx.now),
    )
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        row = uow.records.add_release_request(grant, request, ctx.now)
        await uow.commit()
    return s.RequestRecordsReleasePayload(request=s.RecordsReleaseRequest.from_row(row))


# -- Patient fields -----------------------------------------------------------------------
async def health_readings(
    info: Info,
    grant: PatientGrant,
    kind: ReadingKind,
    since: datetime | None,
    first: int | None,
    after: str | None,
) -> Connection[s.HealthReading]:
    if since is not None and since.tzinfo is None:
        raise BadInput("`since` needs a time zone or offset.")
    page = Page(page_size(first), cursor_values(after, [datetime, str]), (kind.value, since))
    found = await info.context.loaders.health_reading_pages.get((grant, page))
    if found is None:
        raise BrokenInvariant("found is None")
    return Connection.of(found, s.HealthReading.from_row)


async def release_requests(info: Info, patient_id: str) -> list[s.RecordsReleaseRequest]:
    grant = info.context.records_release(patient_id, "RecordsReleaseRequest", write=False)
    rows = await info.context.loaders.release_requests.get(grant)
    return [s.RecordsReleaseRequest.from_row(row) for row in rows or []]


# -- node(id) ------------------------------------------------------------------------------
async def health_reading_node(info: Info, row_id: str) -> s.HealthReading | None:
    from resolvers.nodes import owned_row  # resolvers.nodes imports this module

    row, _grant = await owned_row(info, m.HealthReading, "HealthReading", row_id)
    return s.HealthReading.from_row(row) if row else None


async def release_request_node(info: Info, row_id: str) -> s.RecordsReleaseRequest | None:
    """Only among the viewer's own requests; anything else answers SELF_ONLY."""
    ctx = info.context
    own = ctx.require_principal().patient_id or ""
    row = next((r for r in await release_requests(info, own) if r.internal_id == row_id), None)
    if row is None:
        ctx.own_record("", "RecordsReleaseRequest")  # unknown or someone else's: forbidden
    return row
