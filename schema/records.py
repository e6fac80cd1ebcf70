"""Home health readings and records release requests: types, inputs, payloads, errors."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from domain.readings import ReadingKind, UnitNotAllowed, convert
from domain.releases import RecipientKind, RecordsReleaseStatus
from domain.scopes import RecordArea
from persistence import models as m
from schema.base import BadInput, Info, Node
from schema.payloads import UserError
from schema.people import Address, EnteredBy

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


# -- recordHealthReading --------------------------------------------------------------
@strawberry.enum
class RecordHealthReadingErrorCode(Enum):
    UNIT_NOT_ALLOWED = "UNIT_NOT_ALLOWED"
    VALUE_REQUIRED = "VALUE_REQUIRED"
    VALUE_NOT_ALLOWED = "VALUE_NOT_ALLOWED"
    IMPLAUSIBLE_VALUE = "IMPLAUSIBLE_VALUE"
    TIME_ZONE_REQUIRED = "TIME_ZONE_REQUIRED"
    TAKEN_IN_FUTURE = "TAKEN_IN_FUTURE"


@strawberry.type
class RecordHealthReadingError(UserError):
    code: RecordHealthReadingErrorCode


@strawberry.input
class RecordHealthReadingInput:
    patient_id: strawberry.ID
    kind: ReadingKind
    unit: str = strawberry.field(
        description="BLOOD_GLUCOSE: mg/dL or mmol/L; BLOOD_PRESSURE: mmHg; WEIGHT: kg or lb."
    )
    taken_at: datetime = strawberry.field(description="With a time zone; not in the future.")
    value: float | None = strawberry.field(default=None, description="Glucose or weight.")
    systolic: int | None = strawberry.field(default=None, description="Blood pressure only.")
    diastolic: int | None = strawberry.field(default=None, description="Blood pressure only.")


@strawberry.type
class RecordHealthReadingPayload:
    reading: HealthReading | None = None
    errors: list[RecordHealthReadingError] = strawberry.field(default_factory=list)


# -- requestRecordsRelease ------------------------------------------------------------
@strawberry.enum
class RequestRecordsReleaseErrorCode(Enum):
    RECIPIENT_NAME_REQUIRED = "RECIPIENT_NAME_REQUIRED"
    DELIVERY_REQUIRED = "DELIVERY_REQUIRED"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_FAX = "INVALID_FAX"
    INVALID_ADDRESS = "INVALID_ADDRESS"
    INVALID_DATE_RANGE = "INVALID_DATE_RANGE"
    TOO_LONG = "TOO_LONG"


@strawberry.type
class RequestRecordsReleaseError(UserError):
    code: RequestRecordsReleaseErrorCode


@strawberry.input
class PostalAddressInput:
    line1: str
    line2: str | None = None
    city: str
    state: str
    postal_code: str


@strawberry.input(
    description="Exactly one of recipientEmail, recipientFax and recipientAddress. Without "
    "areas or dates, the whole record is sent."
)
class RequestRecordsReleaseInput:
    patient_id: strawberry.ID
    recipient_kind: RecipientKind
    recipient_name: str | None = strawberry.field(
        default=None, description="Required for PROVIDER and INSURER."
    )
    recipient_email: str | None = None
    recipient_fax: str | None = None
    recipient_address: PostalAddressInput | None = None
    areas: list[RecordArea] | None = None
    from_date: date | None = None
    to_date: date | None = None
    note: str | None = None


@strawberry.type
class RequestRecordsReleasePayload:
    request: RecordsReleaseRequest | None = None
    errors: list[RequestRecordsReleaseError] = strawberry.field(default_factory=list)
