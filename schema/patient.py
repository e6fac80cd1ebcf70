"""The patient, the contexts a viewer may act in, and what each context allows."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from domain.access import AreaAccess as AreaAccessFacts
from domain.access import PatientContext as PatientContextFacts
from domain.access import age_on
from domain.scopes import AccessReason, RecordArea, Relationship, Scope
from persistence import models as m
from resolvers import appointments as appointments_r
from resolvers import patients as r
from schema.appointments import Appointment
from schema.base import Connection, Info, Node, RequiresScope, granted
from schema.enums import AppointmentWhen
from schema.people import Address, Provider


@strawberry.type
class PersonName:
    given: str
    family: str
    preferred: str | None

    @strawberry.field(description="The name to greet the person by: preferred, else given.")
    def display(self) -> str:
        return f"{self.preferred or self.given} {self.family}"


@strawberry.type
class Patient(Node):
    mrn: str
    name: PersonName
    birth_date: date
    age: int
    sex: str
    email: str | None
    phone: str | None
    address: Address | None
    patient_id: strawberry.Private[str]
    pcp_provider_id: strawberry.Private[str | None]

    def node_id(self) -> str:
        return self.patient_id

    @strawberry.field
    async def primary_care_provider(self, info: Info) -> Provider | None:
        return await r.primary_care_provider(info, self.pcp_provider_id)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.APPOINTMENTS, "Appointment")],
        description="Null, with a FORBIDDEN error and its reason, when not visible to the viewer.",
    )
    async def appointments(
        self,
        info: Info,
        when: AppointmentWhen = AppointmentWhen.UPCOMING,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Appointment] | None:
        return await appointments_r.patient_appointments(info, granted(info), when, first, after)

    @classmethod
    def from_row(cls, row: m.Patient, today: date) -> Patient:
        return cls(
            patient_id=row.id,
            pcp_provider_id=row.pcp_provider_id,
            mrn=row.mrn,
            name=PersonName(
                given=row.given_name, family=row.family_name, preferred=row.preferred_name
            ),
            birth_date=row.birth_date,
            age=age_on(row.birth_date, today),
            sex=row.sex,
            email=row.email,
            phone=row.phone,
            address=Address.from_json(row.address),
        )


@strawberry.type
class ScopeAccess:
    """Whether one area of the record is open in this context, why not, and until when."""

    area: RecordArea
    scope: Scope
    allowed: bool
    reason: AccessReason | None
    changes_on: date | None = strawberry.field(
        description="The date this answer changes (e.g. the 12th birthday), if known."
    )
    changes_to: bool | None

    @classmethod
    def from_facts(cls, facts: AreaAccessFacts) -> ScopeAccess:
        return cls(
            area=facts.area,
            scope=facts.area.scope,
            allowed=facts.allowed,
            reason=facts.reason,
            changes_on=facts.changes_on,
            changes_to=facts.changes_to,
        )


@strawberry.type
class PatientContext:
    relationship: Relationship
    scopes: list[Scope] = strawberry.field(
        description="Scopes the policy allows now (after age rules), not what the grant says."
    )
    expires_at: datetime | None
    access: list[ScopeAccess]
    patient_id: strawberry.Private[str]

    @strawberry.field
    async def patient(self, info: Info) -> Patient:
        return await r.patient(info, self.patient_id)

    @classmethod
    def from_facts(cls, facts: PatientContextFacts) -> PatientContext:
        return cls(
            patient_id=facts.patient_id,
            relationship=facts.relationship,
            scopes=facts.scopes,
            expires_at=facts.expires_at,
            access=[ScopeAccess.from_facts(a) for a in facts.access],
        )
