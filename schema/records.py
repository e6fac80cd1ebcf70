"""Home health readings and records release requests: the types and the Patient fields' reads
(inputs, payloads and errors: schema/mutations/records.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import strawberry

from domain.access import PatientGrant
from domain.readings import ReadingKind, UnitNotAllowed, convert
from domain.releases import RecipientKind, RecordsReleaseStatus
from domain.scopes import RecordArea
from resolvers import records as r
from schema.base import BadInput, Connection, Info, Node, cursor_values, page_size
from schema.people import Address, EnteredBy

if TYPE_CHECKING:
    from persistence import models as m

HealthReadingKind = strawberry.enum(ReadingKind, name="HealthReadingKind")
RecordsRecipientKind = strawberry.enum(RecipientKind, name="RecordsRecipientKind")
RecordsReleaseStatusEnum = strawberry.enum(RecordsReleaseStatus, name="RecordsReleaseStatus")


@strawberry.type(description="A reading taken at home (remote monitoring), as entered.")
class HealthReading(Node):
    kind: ReadingKind
    value: float | None = strawberry.field(description="Glucose or weight; null for pressure.")
    systolic: int | None = strawberry.field(description="Blood pressure only (mmHg).")
    diastolic: int | None = strawberry.field(description="Blood pressure only (mmHg).")
    unit: str = strawberry.field(description="mg/dL or mmol/L, mmHg, kg or lb.")
    taken_at: datetime
    recorded_at: datetime
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]
    recorded_by_account_id: strawberry.Private[str]

    def node_id(self) -> str:
        return self.internal_id

    @strawberry.field(
        description="Who entered it: the patient, or a proxy (a caregiver logging a parent's "
        "blood pressure)."
    )
    async def entered_by(self, info: Info) -> EnteredBy | None:
        return await EnteredBy.by_id(info, self.recorded_by_account_id, self.patient_id)

    @strawberry.field(
        description="Glucose or weight converted to `unit` (mg/dL or mmol/L; kg or lb), so a "
        "series entered in mixed units charts in one; null for pressure."
    )
    def value_in(self, unit: str) -> float | None:
        if self.value is None:
            return None
        try:
            return convert(self.kind, self.value, self.unit, unit)
        except UnitNotAllowed as exc:
            raise BadInput(exc.message) from exc

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> HealthReading | None:
        row = await r.health_reading(info.context, row_id)
        return cls.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: m.HealthReading) -> HealthReading:
        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            kind=ReadingKind(row.kind),
            value=row.value,
            systolic=row.systolic,
            diastolic=row.diastolic,
            unit=row.unit,
            taken_at=row.taken_at,
            recorded_at=row.recorded_at,
            recorded_by_account_id=row.recorded_by_account_id,
        )


@strawberry.type(description="A request to send a copy of the record. Self only.")
class RecordsReleaseRequest(Node):
    recipient_kind: RecipientKind
    recipient_name: str | None
    recipient_email: str | None
    recipient_fax: str | None
    recipient_address: Address | None
    areas: list[RecordArea] = strawberry.field(description="Empty: the whole record.")
    from_date: date | None
    to_date: date | None
    note: str | None
    status: RecordsReleaseStatus
    requested_at: datetime
    status_changed_at: datetime
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]
    requested_by_account_id: strawberry.Private[str]

    @strawberry.field(
        description="Who asked: the patient, or a parent or guardian of a child (whose "
        "authority the release desk verifies before anything is sent)."
    )
    async def requested_by(self, info: Info) -> EnteredBy | None:
        return await EnteredBy.by_id(info, self.requested_by_account_id, self.patient_id)

    def node_id(self) -> str:
        return self.internal_id

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> RecordsReleaseRequest | None:
        row = await r.release_request(info.context, row_id)
        return cls.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: m.RecordsReleaseRequest) -> RecordsReleaseRequest:
        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            requested_by_account_id=row.requested_by_account_id,
            recipient_kind=RecipientKind(row.recipient_kind),
            recipient_name=row.recipient_name,
            recipient_email=row.recipient_email,
            recipient_fax=row.recipient_fax,
            recipient_address=Address.from_json(row.recipient_address),
            areas=[RecordArea(a) for a in row.areas],
            from_date=row.from_date,
            to_date=row.to_date,
            note=row.note,
            status=RecordsReleaseStatus(row.status),
            requested_at=row.requested_at,
            status_changed_at=row.status_changed_at,
        )


async def health_readings(
    info: Info,
    grant: PatientGrant,
    kind: ReadingKind,
    since: datetime | None,
    first: int | None,
    after: str | None,
) -> Connection[HealthReading]:
    """Patient.healthReadings: one kind, newest first, a page at a time."""
    if since is not None and since.tzinfo is None:
        raise BadInput("`since` needs a time zone or offset.")
    size, after_values = page_size(first), cursor_values(after, [datetime, str])
    found = await r.health_readings(info.context, grant, kind, since, size, after_values)
    return Connection.of(found, HealthReading.from_row)


async def release_requests(info: Info, patient_id: str) -> list[RecordsReleaseRequest]:
    """Patient.recordsReleaseRequests: self only (a parent or guardian of a child too)."""
    rows = await r.release_requests(info.context, patient_id)
    return [RecordsReleaseRequest.from_row(row) for row in rows]
