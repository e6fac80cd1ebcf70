"""May this patient book this slot for this visit type online? (domain/eligibility.py)

Shared by scheduleAppointment and rescheduleAppointment, inside their transaction."""

from __future__ import annotations

from datetime import datetime

from domain.access import AgePolicy, PatientGrant
from domain.appointments import AppointmentPolicy
from domain.eligibility import eligibility_refusal
from domain.errors import DomainError
from persistence import eligibility as facts
from persistence import models as m
from persistence.appointments import StoredSlot
from persistence.uow import UnitOfWork


async def slot_refusal(
    uow: UnitOfWork,
    grant: PatientGrant,
    slot: StoredSlot,
    visit_type: str,
    now: datetime,
    policy: AppointmentPolicy,
    ages: AgePolicy,
) -> DomainError | None:
    """`grant`: the patient's APPOINTMENTS grant (their visit history is read through it)."""
    session = uow.session
    patient = await facts.patient_facts(session, grant, now)
    department = (await facts.departments(session))[slot.department_id]
    provider = await session.get(m.Provider, slot.provider_id)
    accepts = provider.accepts_new_patients if provider is not None else True
    return eligibility_refusal(
        patient,
        visit_type,
        department,
        slot.provider_id,
        accepts,
        ages.today(slot.starts_at),
        now,
        policy.eligibility,
    )
