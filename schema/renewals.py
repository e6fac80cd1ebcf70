"""Prescription renewals: the type, requestRenewal's input, payload and error codes."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from domain.access import PatientGrant
from domain.renewals import RenewalStatus
from persistence import models as m
from schema.base import Info, Node, to_global_id
from schema.payloads import UserError
from schema.people import Provider
from schema.summary import Medication

PrescriptionRenewalStatus = strawberry.enum(RenewalStatus, name="PrescriptionRenewalStatus")


@strawberry.type(
    description="A new prescription asked of the prescriber (no refills left, or expired)."
)
class PrescriptionRenewal(Node):
    status: RenewalStatus
    medication_id: strawberry.ID = strawberry.field(
        description="The medication renewed (as in `Patient.medications`)."
    )
    pharmacy: str | None
    note: str | None
    denial_reason: str | None = strawberry.field(description="The prescriber's reason, if DENIED.")
    created_at: datetime
    status_changed_at: datetime
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]
    prescriber_id: strawberry.Private[str]
    grant: strawberry.Private[PatientGrant]

    def node_id(self) -> str:
        return self.internal_id

    @strawberry.field(description="The prescriber it was sent to.")
    async def prescriber(self, info: Info) -> Provider | None:
        return await Provider.by_id(info, self.prescriber_id)

    @classmethod
    def from_row(cls, row: m.PrescriptionRenewal, grant: PatientGrant) -> PrescriptionRenewal:
        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            medication_id=strawberry.ID(str(to_global_id("Medication", row.medication_id))),
            prescriber_id=row.prescriber_id,
            grant=grant,
            status=RenewalStatus(row.status),
            pharmacy=row.pharmacy,
            note=row.note,
            denial_reason=row.denial_reason,
            created_at=row.created_at,
            status_changed_at=row.status_changed_at,
        )


@strawberry.enum(description="Why a renewal request was refused (nothing was changed).")
class RequestRenewalErrorCode(Enum):
    INVALID_ID = "INVALID_ID"
    MEDICATION_INACTIVE = "MEDICATION_INACTIVE"
    RENEWAL_NOT_NEEDED = "RENEWAL_NOT_NEEDED"
    ALREADY_REQUESTED = "ALREADY_REQUESTED"
    NO_PRESCRIBER = "NO_PRESCRIBER"
    NOTE_TOO_LONG = "NOTE_TOO_LONG"


@strawberry.type
class RequestRenewalError(UserError):
    code: RequestRenewalErrorCode


@strawberry.input
class RequestRenewalInput:
    medication_id: strawberry.ID
    pharmacy: str | None = strawberry.field(
        default=None, description="Defaults to the pharmacy on file for the prescription."
    )
    note: str | None = None


@strawberry.type
class RequestRenewalPayload:
    renewal: PrescriptionRenewal | None = None
    medication: Medication | None = None
    errors: list[RequestRenewalError] = strawberry.field(default_factory=list)
