"""Home health readings and records release requests: inputs (decoded into the commands of
usecases/records.py), payloads, error codes and the mutation fields (rules:
domain/readings.py and domain/releases.py)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from domain.readings import ReadingKind
from domain.releases import PostalAddress, RecipientKind
from domain.scopes import RecordArea
from resolvers import records as r
from schema.base import Info, internal_id
from schema.payloads import UserError, user_errors
from schema.records import HealthReading, RecordsReleaseRequest
from usecases import records as usecases


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

    def command(self) -> usecases.RecordHealthReading:
        return usecases.RecordHealthReading(
            patient_id=internal_id(self.patient_id, "Patient"),
            kind=self.kind,
            unit=self.unit,
            taken_at=self.taken_at,
            value=self.value,
            systolic=self.systolic,
            diastolic=self.diastolic,
        )


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

    def postal_address(self) -> PostalAddress:
        return PostalAddress(self.line1, self.line2, self.city, self.state, self.postal_code)


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

    def command(self) -> usecases.RequestRecordsRelease:
        address = self.recipient_address
        return usecases.RequestRecordsRelease(
            patient_id=internal_id(self.patient_id, "Patient"),
            recipient_kind=self.recipient_kind,
            recipient_name=self.recipient_name,
            email=self.recipient_email,
            fax=self.recipient_fax,
            address=address.postal_address() if address is not None else None,
            areas=self.areas,
            from_date=self.from_date,
            to_date=self.to_date,
            note=self.note,
        )


@strawberry.type
class RequestRecordsReleasePayload:
    request: RecordsReleaseRequest | None = None
    errors: list[RequestRecordsReleaseError] = strawberry.field(default_factory=list)


@strawberry.type
class RecordMutations:
    @strawberry.mutation(
        description="Log a home reading for remote monitoring: the patient, or a proxy whose "
        "grant includes HEALTH_SUMMARY (not a parent of an adolescent, by default). Units and "
        "plausible ranges are checked; a refused reading is not stored."
    )
    @user_errors(RecordHealthReadingPayload, RecordHealthReadingError, RecordHealthReadingErrorCode)
    async def record_health_reading(
        self, info: Info, input: RecordHealthReadingInput
    ) -> RecordHealthReadingPayload:
        row = await r.record_health_reading(info.context, input.command())
        return RecordHealthReadingPayload(reading=HealthReading.from_row(row))

    @strawberry.mutation(
        description="Ask for a copy of the record to be sent to the patient, a provider or an "
        "insurer. Self only; recorded with status REQUESTED."
    )
    @user_errors(
        RequestRecordsReleasePayload, RequestRecordsReleaseError, RequestRecordsReleaseErrorCode
    )
    async def request_records_release(
        self, info: Info, input: RequestRecordsReleaseInput
    ) -> RequestRecordsReleasePayload:
        row = await r.request_records_release(info.context, input.command())
        return RequestRecordsReleasePayload(request=RecordsReleaseRequest.from_row(row))
