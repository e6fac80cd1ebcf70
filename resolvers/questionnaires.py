"""An appointment's forms, and the mutations answering and signing them
(usecases/questionnaires.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.access import PatientGrant
from schema import questionnaires as s

if TYPE_CHECKING:
    from schema.appointments import Appointment
    from schema.base import Info


async def appointment_forms(
    info: Info, grant: PatientGrant, appointment: Appointment
) -> list[s.AppointmentForm]:
    key = (grant, appointment.internal_id, appointment.visit_type, appointment.department_id)
    states = await info.context.loaders.appointment_forms.get(key)
    return [s.AppointmentForm.of(state) for state in states or []]
