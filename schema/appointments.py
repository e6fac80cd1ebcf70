"""Appointments and open slots. Appointment carries what the patient may still do with it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.access import PatientGrant
from domain.appointments import AppointmentFacts, actions_for
from domain.scopes import RecordArea
from resolvers import appointments as r
from resolvers import questionnaires as questionnaires_r
from schema.base import (
    BadInput,
    Connection,
    Info,
    Node,
    RequiresScope,
    cursor_values,
    internal_id,
    page_size,
)
from schema.construct import enum_of, maker
from schema.enums import AppointmentStatus, AppointmentWhen
from schema.people import Department, Provider
from schema.questionnaires import AppointmentForm

if TYPE_CHECKING:
    from persistence import models as m
    from persistence.queries.appointments import AppointmentRow
    from schema.notes import ClinicalNote


@strawberry.type
class Appointment(Node):
    visit_type: str
    reason: str | None
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    status: AppointmentStatus
    telehealth: bool
    questionnaire_complete: bool
    can_cancel: bool
    can_reschedule: bool
    can_check_in: bool
    can_confirm: bool
    cancel_deadline: datetime | None = strawberry.field(
        description="After this, cancelling or rescheduling online is refused: call the clinic."
    )
    check_in_opens_at: datetime | None
    join_url: str | None = strawberry.field(
        description="Telehealth link; shown only from 30 minutes before the start."
    )
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]
    provider_id: strawberry.Private[str]
    department_id: strawberry.Private[str]
    grant: strawberry.Private[PatientGrant]

    def node_id(self) -> str:
        return self.internal_id

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Appointment | None:
        row, grant = await r.appointment(info.context, row_id)
        return cls.from_row(row, grant, info) if row else None

    @strawberry.field
    async def provider(self, info: Info) -> Provider | None:
        return await Provider.by_id(info, self.provider_id)

    @strawberry.field
    async def department(self, info: Info) -> Department | None:
        return await Department.by_id(info, self.department_id)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.CLINICAL_NOTES, "ClinicalNote")],
        description="The visit's after-visit summary once signed (printable: its pdfUrl). "
        "Needs the CLINICAL_NOTES area; null with FORBIDDEN and the reason when withheld.",
    )
    async def after_visit_summary(
        self, info: Info, grant: PatientGrant
    ) -> Annotated[ClinicalNote, strawberry.lazy("schema.notes")] | None:
        from schema import notes as notes_s

        return await notes_s.after_visit_summary(info, grant, self.internal_id)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.APPOINTMENTS, "FormResponse")],
        description="The questionnaires and consent forms this visit asks for: what is due "
        "(DUE, DRAFT) and what is done. checkIn waits for the required ones.",
    )
    async def forms(self, info: Info, grant: PatientGrant) -> list[AppointmentForm] | None:
        states = await questionnaires_r.appointment_forms(
            info.context, grant, self.internal_id, self.visit_type, self.department_id
        )
        return [AppointmentForm.of(state) for state in states]

    @classmethod
    def from_row(
        cls, row: m.Appointment | AppointmentRow, grant: PatientGrant, info: Info
    ) -> Appointment:
        settings = info.context.services.settings
        duration = timedelta(minutes=row.duration_minutes)
        actions = actions_for(
            AppointmentFacts(row.status, row.starts_at, row.visit_type, row.department_id),
            duration=duration,
            telehealth=row.telehealth,
            now=info.context.now,
            policy=settings.appointments,
        )
        return _appointment(
            row.id,
            row.patient_id,
            row.provider_id,
            row.department_id,
            grant,
            row.visit_type,
            row.reason,
            row.starts_at,
            row.starts_at + duration,
            row.duration_minutes,
            _status(row.status),
            row.telehealth,
            row.questionnaire_complete,
            actions.can_cancel,
            actions.can_reschedule,
            actions.can_check_in,
            actions.can_confirm,
            actions.cancel_deadline,
            actions.check_in_opens_at,
            f"https://telehealth.example.org/visit/{row.id}" if actions.join_link_visible else None,
        )


# Positional, in this order (schema/construct.py).
_appointment = maker(
    Appointment,
    "internal_id",
    "patient_id",
    "provider_id",
    "department_id",
    "grant",
    "visit_type",
    "reason",
    "starts_at",
    "ends_at",
    "duration_minutes",
    "status",
    "telehealth",
    "questionnaire_complete",
    "can_cancel",
    "can_reschedule",
    "can_check_in",
    "can_confirm",
    "cancel_deadline",
    "check_in_opens_at",
    "join_url",
)
_status = enum_of(AppointmentStatus)


@strawberry.type
class Slot(Node):
    starts_at: datetime
    duration_minutes: int
    visit_types: list[str]
    internal_id: strawberry.Private[str]
    provider_id: strawberry.Private[str]
    department_id: strawberry.Private[str]

    def node_id(self) -> str:
        return self.internal_id

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Slot | None:
        row = await r.slot(info.context, row_id)
        return cls.from_row(row) if row else None

    @strawberry.field
    async def provider(self, info: Info) -> Provider | None:
        return await Provider.by_id(info, self.provider_id)

    @strawberry.field
    async def department(self, info: Info) -> Department | None:
        return await Department.by_id(info, self.department_id)

    @classmethod
    def from_row(cls, row: m.Slot, bookable: Sequence[str] | None = None) -> Slot:
        """`bookable`: the visit types one patient may book there (availableSlots with a
        patientId lists only those of the slot's)."""
        types = [t for t in row.visit_types if bookable is None or t in bookable]
        return cls(
            internal_id=row.id,
            provider_id=row.provider_id,
            department_id=row.department_id,
            starts_at=row.starts_at,
            duration_minutes=row.duration_minutes,
            visit_types=types,
        )


@strawberry.input
class SlotFilter:
    patient_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Only what this patient may book online (visit types, age, sex, "
        "established-patient and panel rules; the slot's `visitTypes` narrowed to those). "
        "Needs the patient's APPOINTMENTS. Omitted: every open slot.",
    )
    department_id: strawberry.ID | None = None
    provider_id: strawberry.ID | None = None
    visit_type: str | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None

    def query(self) -> r.OpenSlots:
        """Ids decoded (a malformed one: BAD_USER_INPUT)."""
        if self.visit_type is not None and len(self.visit_type) > MAX_VISIT_TYPE:
            # SQLite refuses a LIKE pattern past 50,000 bytes ("pattern too complex"): a 500.
            raise BadInput(f"`visitType` is at most {MAX_VISIT_TYPE} characters.")
        return r.OpenSlots(
            patient_id=_decoded(self.patient_id, "Patient"),
            department_id=_decoded(self.department_id, "Department"),
            provider_id=_decoded(self.provider_id, "Provider"),
            visit_type=self.visit_type,
            starts_after=self.starts_after,
            starts_before=self.starts_before,
        )


MAX_VISIT_TYPE = 100  # longer than any visit type's name


def _decoded(global_id: str | None, type_name: str) -> str | None:
    return internal_id(global_id, type_name) if global_id else None


# -- reads -----------------------------------------------------------------------------------
async def patient_appointments(
    info: Info, grant: PatientGrant, when: AppointmentWhen, first: int | None, after: str | None
) -> Connection[Appointment]:
    after_values = cursor_values(after, [datetime, str])
    page = await r.patient_appointments(
        info.context, grant, when.value, page_size(first), after_values
    )
    return Connection.of(page, lambda row: Appointment.from_row(row, grant, info))


async def appointment_of(
    info: Info, grant: PatientGrant, appointment_id: str | None
) -> Appointment | None:
    """One appointment of the grant's patient by id (batched), e.g. a request's booking."""
    row = await r.appointment_of(info.context, grant, appointment_id)
    return Appointment.from_row(row, grant, info) if row else None


async def available_slots(
    info: Info, filter: SlotFilter, first: int | None, after: str | None
) -> Connection[Slot]:
    query = filter.query()
    size, after_values = page_size(first), cursor_values(after, [datetime, str])
    page, bookable = await r.available_slots(info.context, query, size, after_values)
    if bookable is None:
        return Connection.of(page, Slot.from_row)
    return Connection.of(page, lambda row: Slot.from_row(row, bookable[row.department_id]))
