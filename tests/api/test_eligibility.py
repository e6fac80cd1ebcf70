"""Self-scheduling offers only what fits: availableSlots(filter: {patientId}) and the refusals
of scheduleAppointment (NOT_ELIGIBLE_AGE & co), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from persistence import models as m
from schema.base import to_global_id
from tests.conftest import ALEX, NOW, SUSAN, Portal, errors_of, patient_gid

ALEX_PATIENT, MIA, MARGARET = "pat-0000001", "pat-0000003", "pat-0000005"
SCHEDULE = """
mutation Schedule($input: ScheduleAppointmentInput!) {
  scheduleAppointment(input: $input) { appointment { id } errors { code message field } }
}
"""
SLOTS = """
query Slots($filter: SlotFilter!) {
  availableSlots(filter: $filter, first: 100) { nodes { id visitTypes department { id } } }
}
"""


def gid(type_name: str, internal: str) -> str:
    return str(to_global_id(type_name, internal))


async def department(portal: Portal, specialty: str) -> str:
    async with portal.services.session() as session:
        stmt = select(m.Department.id).where(m.Department.specialty == specialty).limit(1)
        return str(await session.scalar(stmt.order_by(m.Department.id)))


async def add_slot(
    portal: Portal, department_id: str, visit_types: list[str], *, accepts: bool = True
) -> str:
    """A slot of its own: with a provider of that department, or (`accepts=False`) with a
    new provider there who takes no new patients and whom nobody has seen. The dataset does
    not promise every combination a rule needs."""
    slot_id = m.new_id("slt")
    async with portal.services.session() as session:
        if accepts:
            stmt = select(m.Provider.id).where(m.Provider.department_id == department_id)
            provider_id = str(await session.scalar(stmt.order_by(m.Provider.id).limit(1)))
        else:
            provider_id = m.new_id("prv")
            session.add(
                m.Provider(
                    id=provider_id,
                    given_name="Pat",
                    family_name="Closed",
                    credentials="MD",
                    display_name="Pat Closed, MD",
                    specialty="Family Medicine",
                    department_id=department_id,
                    accepts_new_patients=False,
                )
            )
            await session.flush()
        session.add(
            m.Slot(
                id=slot_id,
                provider_id=provider_id,
                department_id=department_id,
                starts_at=NOW + timedelta(days=3, hours=1),
                duration_minutes=30,
                visit_types=visit_types,
                appointment_id=None,
            )
        )
        await session.commit()
    return slot_id


async def schedule(
    portal: Portal, user: str, patient: str, slot_id: str, visit_type: str
) -> dict[str, Any]:
    values = {"patientId": patient_gid(patient), "slotId": gid("Slot", slot_id)}
    result = await portal.gql(SCHEDULE, {"input": values | {"visitType": visit_type}}, as_user=user)
    payload: dict[str, Any] = result["data"]["scheduleAppointment"]
    return payload


async def appointments(portal: Portal) -> int:
    async with portal.services.session() as session:
        return int(await session.scalar(select(func.count()).select_from(m.Appointment)) or 0)


async def test_booking_refuses_what_does_not_fit_and_says_to_request(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    peds = await add_slot(portal, await department(portal, "Pediatrics"), ["Well Child"])
    adult = await add_slot(portal, await department(portal, "Internal Medicine"), ["Office Visit"])
    cardio = await add_slot(portal, await department(portal, "Cardiology"), ["Follow-Up"])
    closed = await add_slot(
        portal, await department(portal, "Family Medicine"), ["Office Visit"], accepts=False
    )
    before = await appointments(portal)
    cases = [
        (SUSAN, MARGARET, peds, "Well Child", "NOT_ELIGIBLE_AGE"),  # 84, a well-child visit
        (ALEX, MIA, adult, "Office Visit", "NOT_ELIGIBLE_AGE"),  # 7, adult primary care
        (ALEX, ALEX_PATIENT, cardio, "Follow-Up", "ESTABLISHED_PATIENTS_ONLY"),
        (ALEX, ALEX_PATIENT, closed, "Office Visit", "PROVIDER_NOT_ACCEPTING_NEW_PATIENTS"),
    ]
    for user, patient, slot_id, visit_type, code in cases:
        payload = await schedule(portal, user, patient, slot_id, visit_type)
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, "slotId")]
        assert "appointment request" in payload["errors"][0]["message"]
        assert payload["appointment"] is None
    assert await appointments(portal) == before
    # What fits is booked: Mia's well-child visit.
    done = await schedule(portal, ALEX, MIA, peds, "Well Child")
    assert done["errors"] == []


async def test_available_slots_for_a_patient_offer_only_what_fits(fresh_portal: Portal) -> None:
    portal = fresh_portal
    peds_dep = await department(portal, "Pediatrics")
    im_dep = await department(portal, "Internal Medicine")
    peds = await add_slot(portal, peds_dep, ["Well Child", "Sick Visit"])
    adult = await add_slot(portal, im_dep, ["Office Visit", "Follow-Up"])
    closed = await add_slot(
        portal, await department(portal, "Family Medicine"), ["Office Visit"], accepts=False
    )

    async def offered(user: str, patient: str | None) -> dict[str, list[str]]:
        at = NOW + timedelta(days=3, hours=1)  # when add_slot's slots start
        window = {
            "startsAfter": (at - timedelta(minutes=1)).isoformat(),
            "startsBefore": (at + timedelta(minutes=1)).isoformat(),
        }
        filter = window | ({"patientId": patient_gid(patient)} if patient else {})
        result = await portal.gql(SLOTS, {"filter": filter}, as_user=user)
        assert "errors" not in result, result
        nodes = result["data"]["availableSlots"]["nodes"]
        return {n["id"]: n["visitTypes"] for n in nodes}

    everyone = await offered(ALEX, None)
    assert {gid("Slot", s) for s in (peds, adult, closed)} <= set(everyone)
    margaret = await offered(SUSAN, MARGARET)
    assert gid("Slot", peds) not in margaret
    assert margaret[gid("Slot", adult)] == ["Office Visit", "Follow-Up"]
    assert gid("Slot", closed) not in margaret
    mia = await offered(ALEX, MIA)
    assert mia[gid("Slot", peds)] == ["Well Child", "Sick Visit"]
    assert gid("Slot", adult) not in mia
    # Every slot offered to Mia is one she may book: no slot of an adults-only department.
    async with portal.services.session() as session:
        adult_only = set(
            await session.scalars(
                select(m.Department.id).where(m.Department.specialty == "Internal Medicine")
            )
        )
    result = await portal.gql(SLOTS, {"filter": {"patientId": patient_gid(MIA)}}, as_user=ALEX)
    assert not {n["department"]["id"] for n in result["data"]["availableSlots"]["nodes"]} & {
        gid("Department", d) for d in adult_only
    }
    # Asking for a patient the viewer may not act for is refused.
    denied = await portal.gql(SLOTS, {"filter": {"patientId": patient_gid(MIA)}}, as_user=SUSAN)
    assert errors_of(denied) == [("FORBIDDEN", "NOT_A_PATIENT")]
    assert denied["data"] is None or denied["data"]["availableSlots"] is None
