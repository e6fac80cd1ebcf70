"""The appointment writes are use cases: a job, the CLI or a test calls them with a grant, a
unit of work and ports (clock, policies), no GraphQL, no HTTP (issue 14). The API tests
(tests/api/test_appointments.py) cover the same writes through /graphql, concurrency
included."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain import access
from domain.access import PatientGrant
from domain.appointments import NotActive
from domain.events import EventKind
from domain.scopes import RecordArea
from persistence import models as m
from persistence.uow import UnitOfWork
from tests.api.test_appointments import open_slots
from tests.conftest import ACCOUNT_IDS, ALEX, Portal
from usecases import appointments as uc

ALEX_PATIENT = "pat-0000001"


async def _alex_grant(portal: Portal) -> PatientGrant:
    async with UnitOfWork(portal.services.sessions) as uow:
        principal, _ = await uow.accounts.principal(ACCOUNT_IDS[ALEX], portal.clock.now())
    assert principal is not None
    ages = portal.services.settings.ages
    return access.access_patient(principal, ALEX_PATIENT, RecordArea.APPOINTMENTS, ages)


async def test_book_rebook_and_cancel_without_graphql(fresh_portal: Portal) -> None:
    services = fresh_portal.services
    grant = await _alex_grant(fresh_portal)
    policies = uc.Policies(services.settings.appointments, services.settings.ages)
    uow, clock = UnitOfWork(services.sessions), fresh_portal.clock
    [slot] = await open_slots(fresh_portal, "Follow-Up")
    book = uc.Schedule(ALEX_PATIENT, slot.id, "Follow-Up", "Blood pressure check")

    booked = await uc.schedule(book, grant, uow, clock, policies)
    assert (booked.appointment.status, booked.appointment.reason) == (
        "scheduled",
        "Blood pressure check",
    )
    assert booked.slot.appointment_id == booked.appointment.id
    assert booked.grant == grant

    # The same slot again: refused with the appointment that holds it, still readable after
    # the rollback (the mutation answers it in its payload).
    with pytest.raises(uc.AlreadyBooked) as refused:
        await uc.schedule(book, grant, uow, clock, policies)
    assert (refused.value.appointment.id, refused.value.grant) == (booked.appointment.id, grant)
    assert refused.value.appointment.status == "scheduled"

    cancelled = await uc.cancel(uc.Cancel(booked.appointment.id), grant, uow, clock, policies)
    assert cancelled.appointment.status == "cancelled"
    assert cancelled.freed_slot is not None
    assert (cancelled.freed_slot.id, cancelled.freed_slot.appointment_id) == (slot.id, None)
    async with services.sessions() as session:
        events = (await session.scalars(select(m.OutboxEvent).order_by(m.OutboxEvent.seq))).all()
    assert [(e.kind, e.object_id, e.payload["change"]) for e in events] == [
        (EventKind.APPOINTMENT_CHANGED.value, booked.appointment.id, "scheduled"),
        (EventKind.APPOINTMENT_CHANGED.value, booked.appointment.id, "cancelled"),
    ]
    with pytest.raises(NotActive):  # once cancelled, nothing more to cancel
        await uc.cancel(uc.Cancel(booked.appointment.id), grant, uow, clock, policies)
