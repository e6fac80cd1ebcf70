"""Prescription renewals: the type, requestRenewal's input, payload and error codes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from domain.access import PatientGrant
from domain.renewals import RenewalStatus
from resolvers import renewals as r
from schema.base import Info, Node, to_global_id
from schema.people import Provider

if TYPE_CHECKING:
    from persistence import models as m

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
    async def fetch_node(cls, info: Info, row_id: str) -> PrescriptionRenewal | None:
        row, grant = await r.renewal(info.context, row_id)
        return cls.from_row(row, grant) if row else None

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


async def prescription_renewals(info: Info, grant: PatientGrant) -> list[PrescriptionRenewal]:
    """Patient.prescriptionRenewals."""
    rows = await r.prescription_renewals(info.context, grant)
    return [PrescriptionRenewal.from_row(row, grant) for row in rows]
