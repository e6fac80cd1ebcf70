"""The health summary: medications, allergies, problems and immunizations."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import TYPE_CHECKING

import strawberry

from domain import renewals
from domain.access import PatientGrant
from resolvers import summary as r
from schema.base import Info, Node, to_global_id
from schema.people import Provider

if TYPE_CHECKING:
    from persistence import models as m


@strawberry.enum
class MedicationStatus(Enum):
    ACTIVE = "active"
    DISCONTINUED = "discontinued"


@strawberry.enum
class AllergyCategory(Enum):
    MEDICATION = "medication"
    FOOD = "food"
    ENVIRONMENT = "environment"


@strawberry.enum
class AllergySeverity(Enum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


@strawberry.enum
class ProblemStatus(Enum):
    ACTIVE = "active"
    RESOLVED = "resolved"


@strawberry.type
class Medication(Node):
    name: str
    dose: str | None
    route: str | None
    frequency: str | None
    status: MedicationStatus
    start_date: date | None
    end_date: date | None
    refills_remaining: int
    pharmacy: str | None
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]
    prescriber_id: strawberry.Private[str | None]
    grant: strawberry.Private[PatientGrant]

    def node_id(self) -> str:
        return self.internal_id

    @strawberry.field
    async def prescriber(self, info: Info) -> Provider | None:
        return await Provider.by_id(info, self.prescriber_id)

    @strawberry.field(description="Refills remain and it has not expired: requestRefill.")
    def can_request_refill(self, info: Info) -> bool:
        return self._facts().status == "active" and not renewals.needs_renewal(
            self._facts(), info.context.services.settings.ages.today(info.context.now)
        )

    @strawberry.field(
        description="No refills remain or it has expired: requestRenewal asks the prescriber "
        "for a new prescription."
    )
    def can_request_renewal(self, info: Info) -> bool:
        today = info.context.services.settings.ages.today(info.context.now)
        return renewals.needs_renewal(self._facts(), today) and self.prescriber_id is not None

    def _facts(self) -> renewals.PrescriptionFacts:
        return renewals.PrescriptionFacts(
            self.status.value, self.refills_remaining, self.end_date, self.prescriber_id
        )

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Medication | None:
        row, grant = await r.medication(info.context, row_id)
        return cls.from_row(row, grant) if row else None

    @classmethod
    def from_row(cls, row: m.Medication, grant: PatientGrant) -> Medication:
        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            prescriber_id=row.prescriber_id,
            grant=grant,
            name=row.name,
            dose=row.dose,
            route=row.route,
            frequency=row.frequency,
            status=MedicationStatus(row.status),
            start_date=row.start_date,
            end_date=row.end_date,
            refills_remaining=row.refills_remaining,
            pharmacy=row.pharmacy,
        )


@strawberry.type
class Allergy(Node):
    substance: str
    category: AllergyCategory
    reaction: str | None
    severity: AllergySeverity | None
    recorded_on: date | None
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]
    grant: strawberry.Private[PatientGrant]

    def node_id(self) -> str:
        return self.internal_id

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Allergy | None:
        row, grant = await r.allergy(info.context, row_id)
        return cls.from_row(row, grant) if row else None

    @classmethod
    def from_row(cls, row: m.Allergy, grant: PatientGrant) -> Allergy:
        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            grant=grant,
            substance=row.substance,
            category=AllergyCategory(row.category),
            reaction=row.reaction,
            severity=AllergySeverity(row.severity) if row.severity else None,
            recorded_on=row.recorded_on,
        )


@strawberry.type
class Problem(Node):
    name: str
    icd10: str
    onset_date: date | None
    status: ProblemStatus
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]
    grant: strawberry.Private[PatientGrant]

    def node_id(self) -> str:
        return self.internal_id

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Problem | None:
        row, grant = await r.problem(info.context, row_id)
        return cls.from_row(row, grant) if row else None

    @classmethod
    def from_row(cls, row: m.Problem, grant: PatientGrant) -> Problem:
        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            grant=grant,
            name=row.name,
            icd10=row.icd10,
            onset_date=row.onset_date,
            status=ProblemStatus(row.status),
        )


@strawberry.type
class Immunization(Node):
    vaccine: str
    cvx: str = strawberry.field(description="CDC vaccine code (CVX).")
    administered_on: date
    dose_number: int | None
    lot: str | None
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]
    grant: strawberry.Private[PatientGrant]

    def node_id(self) -> str:
        return self.internal_id

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Immunization | None:
        row, grant = await r.immunization(info.context, row_id)
        return cls.from_row(row, grant) if row else None

    @classmethod
    def from_row(cls, row: m.Immunization, grant: PatientGrant) -> Immunization:
        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            grant=grant,
            vaccine=row.vaccine,
            cvx=row.cvx,
            administered_on=row.administered_on,
            dose_number=row.dose_number,
            lot=row.lot,
        )


# -- the Patient fields' reads -----------------------------------------------------------
async def medications(
    info: Info, grant: PatientGrant, status: MedicationStatus | None
) -> list[Medication]:
    rows = await r.medications(info.context, grant, status.value if status else None)
    return [Medication.from_row(row, grant) for row in rows]


async def allergies(info: Info, grant: PatientGrant) -> list[Allergy]:
    return [Allergy.from_row(row, grant) for row in await r.allergies(info.context, grant)]


async def problems(info: Info, grant: PatientGrant) -> list[Problem]:
    return [Problem.from_row(row, grant) for row in await r.problems(info.context, grant)]


async def immunizations(info: Info, grant: PatientGrant) -> list[Immunization]:
    rows = await r.immunizations(info.context, grant)
    return [Immunization.from_row(row, grant) for row in rows]


def immunization_record_url(grant: PatientGrant) -> str:
    """The printable record (portal/immunization_pdf.py): the same token and area."""
    return f"/patients/{to_global_id('Patient', grant.patient_id)}/immunizations.pdf"


async def care_team(info: Info, grant: PatientGrant) -> list[Provider]:
    """The PCP first, then the providers the patient has seen or is booked with."""
    return [Provider.from_row(row) for row in await r.care_team(info.context, grant)]
