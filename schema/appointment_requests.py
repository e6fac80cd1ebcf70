"""Appointment requests as patients see them (inputs, payloads and the mutations:
schema/mutations/appointment_requests.py)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

import strawberry

from domain.access import PatientGrant
from domain.appointment_requests import ContactPreference, TimeOfDay, Weekday
from resolvers import appointment_requests as r
from schema.appointments import Appointment, appointment_of
from schema.base import Info, Node
from schema.people import Department, Provider

if TYPE_CHECKING:
    from persistence import models as m

WeekdayEnum = strawberry.enum(Weekday, name="Weekday")
TimeOfDayEnum = strawberry.enum(TimeOfDay, name="TimeOfDay")
ContactPreferenceEnum = strawberry.enum(ContactPreference, name="ContactPreference")


@strawberry.enum(description="Where an appointment request stands.")
class AppointmentRequestStatus(Enum):
    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    DECLINED = "declined"
    CANCELLED = "cancelled"


@strawberry.type(
    description="A visit the patient asked the clinic to schedule (types not bookable online)."
)
class AppointmentRequest(Node):
    visit_type: str
    reason: str
    preferred_days: list[Weekday]
    preferred_times_of_day: list[TimeOfDay]
    contact_preference: ContactPreference
    status: AppointmentRequestStatus
    decline_reason: str | None = strawberry.field(description="The clinic's reason, when DECLINED.")
    created_at: datetime
    status_changed_at: datetime
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]
    provider_id: strawberry.Private[str | None]
    department_id: strawberry.Private[str | None]
    appointment_id: strawberry.Private[str | None]
    grant: strawberry.Private[PatientGrant]

    def node_id(self) -> str:
        return self.internal_id

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> AppointmentRequest | None:
        row, grant = await r.appointment_request(info.context, row_id)
        return cls.from_row(row, grant) if row else None

    @strawberry.field(description="The provider the patient would prefer, if any.")
    async def preferred_provider(self, info: Info) -> Provider | None:
        return await Provider.by_id(info, self.provider_id)

    @strawberry.field(description="The department the patient would prefer, if any.")
    async def preferred_department(self, info: Info) -> Department | None:
        return await Department.by_id(info, self.department_id)

    @strawberry.field(description="The appointment the clinic booked, when SCHEDULED.")
    async def appointment(self, info: Info) -> Appointment | None:
        return await appointment_of(info, self.grant, self.appointment_id)

    @strawberry.field(description="Whether the patient may still withdraw it (REQUESTED).")
    def can_cancel(self) -> bool:
        return self.status is AppointmentRequestStatus.REQUESTED

    @classmethod
    def from_row(cls, row: m.AppointmentRequest, grant: PatientGrant) -> AppointmentRequest:
        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            provider_id=row.provider_id,
            department_id=row.department_id,
            appointment_id=row.appointment_id,
            grant=grant,
            visit_type=row.visit_type,
            reason=row.reason,
            preferred_days=[Weekday(d) for d in row.preferred_days],
            preferred_times_of_day=[TimeOfDay(t) for t in row.preferred_times],
            contact_preference=ContactPreference(row.contact_preference),
            status=AppointmentRequestStatus(row.status),
            decline_reason=row.decline_reason,
            created_at=row.created_at,
            status_changed_at=row.status_changed_at,
        )


async def appointment_requests(info: Info, grant: PatientGrant) -> list[AppointmentRequest]:
    """Patient.appointmentRequests: newest first."""
    rows = await r.appointment_requests(info.context, grant)
    return [AppointmentRequest.from_row(row, grant) for row in rows]
