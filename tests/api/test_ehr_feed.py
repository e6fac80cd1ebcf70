"""POST /integration/events: the EHR feed, through real HTTP on every backend.

Each event type is applied and seen through GraphQL by exactly the accounts that may read
it (a parent of an adolescent hears nothing of his results or messages), a re-sent event
is a no-op, a bad payload or bad credentials change nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from domain.results import ReleasePolicy
from persistence import models as m
from runtime.config import DEV_INTEGRATION_TOKEN, ConfigError, Settings
from schema.base import to_global_id
from tests.conftest import (
    ACCOUNT_IDS,
    ALEX,
    JORDAN,
    LEO_ACCOUNT,
    NOW,
    Database,
    Portal,
    _portal,
    patient_gid,
)

TOKEN = "test-integration-token-0123456789abcdef"
ALEX_PATIENT, MIA, LEO = "pat-0000001", "pat-0000003", "pat-0000004"
ALEX_ID, JORDAN_ID, LEO_ID = (ACCOUNT_IDS[u] for u in (ALEX, JORDAN, LEO_ACCOUNT))
AT = (NOW - timedelta(minutes=10)).isoformat()


@pytest.fixture
async def feed(fresh_db: Database) -> AsyncIterator[Portal]:
    """A fresh database; imaging results wait for the EHR (never released automatically)."""
    policy = ReleasePolicy(hold_by_kind={"imaging": None})
    async for p in _portal(fresh_db, release=policy, integration_token=TOKEN):
        yield p


async def send(portal: Portal, event: Any, token: str | None = TOKEN) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await portal.client.post("/integration/events", json=event, headers=headers)


def event(event_id: str, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": event_id, "type": event_type, "occurredAt": AT, "data": data}


def finalized(event_id: str, result_id: str, patient_id: str, **data: Any) -> dict[str, Any]:
    return event(
        event_id,
        "RESULT_FINALIZED",
        {
            "resultId": result_id,
            "patientId": patient_id,
            "name": "Comprehensive metabolic panel",
            "code": "24323-8",
            "kind": "LAB",
            "collectedAt": (NOW - timedelta(hours=5)).isoformat(),
            "resultedAt": (NOW - timedelta(minutes=20)).isoformat(),
            "orderingProviderId": "prv-00001",
            "components": [
                {
                    "code": "2345-7",
                    "name": "Glucose",
                    "value": 182,
                    "unit": "mg/dL",
                    "referenceLow": 70,
                    "referenceHigh": 99,
                },
                {
                    "code": "2951-2",
                    "name": "Sodium",
                    "value": 139,
                    "unit": "mmol/L",
                    "referenceLow": 135,
                    "referenceHigh": 145,
                },
            ],
        }
        | data,
    )


async def applied(portal: Portal, body: Any) -> dict[str, Any]:
    response = await send(portal, body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert answer["status"] == "applied", answer
    return answer


async def scalar(portal: Portal, stmt: Any) -> Any:
    async with portal.services.session() as session:
        return await session.scalar(stmt)


async def all_of(portal: Portal, stmt: Any) -> list[Any]:
    async with portal.services.session() as session:
        return list((await session.scalars(stmt)).all())


async def told(portal: Portal, object_id: str, kind: str) -> set[str]:
    """Accounts that got an in-app notification about `object_id`."""
    n = m.Notification
    stmt = select(n.account_id).where(n.object_id == object_id, n.kind == kind)
    return set(await all_of(portal, stmt))


async def pushed(portal: Portal, kind: str, object_id: str) -> int:
    o = m.OutboxEvent
    stmt = select(func.count()).select_from(o).where(o.kind == kind, o.object_id == object_id)
    return int(await scalar(portal, stmt))


COUNTED = (
    m.IntegrationEvent,
    m.Result,
    m.ResultComponent,
    m.Message,
    m.Statement,
    m.StatementLineItem,
    m.Notification,
    m.OutboxEvent,
)


async def counts(portal: Portal) -> dict[str, int]:
    found = {}
    for model in COUNTED:
        found[model.__name__] = await scalar(portal, select(func.count()).select_from(model))
    found["appointments"] = await scalar(
        portal, select(func.count()).where(m.Appointment.status == "cancelled")
    )
    return found


RESULT = """
query Result($id: ID!) {
  node(id: $id) {
    ... on Result {
      status releaseStatus releasedAt
      components { code value flag }
    }
  }
}
"""


async def result_as(portal: Portal, user: str, result_id: str) -> dict[str, Any]:
    gid = to_global_id("Result", result_id)
    return await portal.gql(RESULT, {"id": gid}, as_user=user)


NOTIFICATIONS = """
query { viewer { notifications(first: 100) { nodes { kind title patient { id } } } } }
"""


# -- results ---------------------------------------------------------------------------------
async def test_a_released_result_reaches_the_patient_and_both_parents(feed: Portal) -> None:
    answer = await applied(feed, finalized("evt-r1", "res-ehr-1", MIA))
    assert (answer["objectId"], answer["type"]) == ("res-ehr-1", "RESULT_FINALIZED")
    for user in (ALEX, JORDAN):
        result = await result_as(feed, user, "res-ehr-1")
        node = result["data"]["node"]
        assert (node["status"], node["releaseStatus"]) == ("FINAL", "RELEASED")
        assert node["components"] == [  # the flag is computed here, not sent by the EHR
            {"code": "2345-7", "value": 182.0, "flag": "HIGH"},
            {"code": "2951-2", "value": 139.0, "flag": "NORMAL"},
        ]
    assert await told(feed, "res-ehr-1", "RESULT_RELEASED") == {ALEX_ID, JORDAN_ID}
    assert await pushed(feed, "RESULT_RELEASED", "res-ehr-1") == 1
    alex = (await feed.gql(NOTIFICATIONS, as_user=ALEX))["data"]["viewer"]["notifications"]
    assert {
        "kind": "RESULT_RELEASED",
        "title": "New test result",
        "patient": {"id": patient_gid(MIA)},
    } in alex["nodes"]


async def test_an_adolescents_result_is_told_to_him_and_not_his_parents(feed: Portal) -> None:
    await applied(feed, finalized("evt-r2", "res-ehr-2", LEO))
    assert await told(feed, "res-ehr-2", "RESULT_RELEASED") == {LEO_ID}
    assert (await result_as(feed, LEO_ACCOUNT, "res-ehr-2"))["data"]["node"]["components"]
    parent = await result_as(feed, ALEX, "res-ehr-2")
    assert parent["data"]["node"] is None
    assert parent["errors"][0]["extensions"]["reason"] == "ADOLESCENT_CONFIDENTIAL"
    for user in (ALEX, JORDAN):
        feed_nodes = (await feed.gql(NOTIFICATIONS, as_user=user))["data"]["viewer"]
        assert all(n["title"] != "New test result" for n in feed_nodes["notifications"]["nodes"])


async def test_a_held_result_waits_for_the_ehr_then_is_released_once(feed: Portal) -> None:
    imaging = finalized(
        "evt-r3",
        "res-ehr-3",
        ALEX_PATIENT,
        kind="IMAGING",
        code="24627-2",
        components=[],
        report="IMPRESSION: No acute findings.",
        name="Chest X-ray",
    )
    await applied(feed, imaging)
    held = await result_as(feed, ALEX, "res-ehr-3")
    assert held["data"]["node"]["releaseStatus"] == "PENDING_REVIEW"
    assert held["data"]["node"]["components"] is None  # FORBIDDEN, HELD_FOR_REVIEW
    assert await told(feed, "res-ehr-3", "RESULT_RELEASED") == set()
    assert await pushed(feed, "RESULT_RELEASED", "res-ehr-3") == 0

    release = event("evt-r4", "RESULT_RELEASED", {"resultId": "res-ehr-3"})
    answer = await applied(feed, release)
    assert answer["changed"] is True
    released = (await result_as(feed, ALEX, "res-ehr-3"))["data"]["node"]
    assert (released["releaseStatus"], released["releasedAt"]) == ("RELEASED", NOW.isoformat())
    assert await told(feed, "res-ehr-3", "RESULT_RELEASED") == {ALEX_ID}
    assert await pushed(feed, "RESULT_RELEASED", "res-ehr-3") == 1
    # Released again under another event id: applied, but nothing new to tell anyone.
    again = await applied(feed, release | {"id": "evt-r5"})
    assert again["changed"] is False
    assert await pushed(feed, "RESULT_RELEASED", "res-ehr-3") == 1
    assert (
        len(
            await all_of(
                feed, select(m.Notification.id).where(m.Notification.object_id == "res-ehr-3")
            )
        )
        == 1
    )


async def test_the_ehr_may_release_with_the_finalization(feed: Portal) -> None:
    imaging = finalized(
        "evt-r6", "res-ehr-6", ALEX_PATIENT, kind="IMAGING", components=[], release="RELEASED"
    )
    await applied(feed, imaging)
    node = (await result_as(feed, ALEX, "res-ehr-6"))["data"]["node"]
    assert (node["releaseStatus"], node["releasedAt"]) == ("RELEASED", AT)
    assert await told(feed, "res-ehr-6", "RESULT_RELEASED") == {ALEX_ID}


async def test_wait_for_my_doctor_holds_a_finalized_result(feed: Portal) -> None:
    async with feed.services.session() as session:
        session.add(m.ResultHoldPreference(patient_id=ALEX_PATIENT, kind="lab", created_at=NOW))
        await session.commit()
    await applied(feed, finalized("evt-r7", "res-ehr-7", ALEX_PATIENT))
    node = (await result_as(feed, ALEX, "res-ehr-7"))["data"]["node"]
    assert node["releaseStatus"] == "HELD_AT_PATIENT_REQUEST"
    assert await told(feed, "res-ehr-7", "RESULT_RELEASED") == set()


async def test_finalizing_a_preliminary_result_replaces_its_values(feed: Portal) -> None:
    async with feed.services.session() as session:
        session.add(
            m.Result(
                id="res-prelim",
                patient_id=MIA,
                ordering_provider_id=None,
                name="CMP",
                code="24323-8",
                kind="lab",
                collected_at=None,
                resulted_at=NOW - timedelta(hours=1),
                status="preliminary",
                released_at=None,
                provider_comment=None,
                report=None,
            )
        )
        await session.flush()
        session.add(
            m.ResultComponent(
                result_id="res-prelim",
                patient_id=MIA,
                position=0,
                loinc="2345-7",
                name="Glucose",
                value=500.0,
                value_text=None,
                unit="mg/dL",
                ref_low=70.0,
                ref_high=99.0,
            )
        )
        await session.commit()
    before = (await result_as(feed, ALEX, "res-prelim"))["data"]["node"]
    assert before["releaseStatus"] == "PENDING_REVIEW"
    await applied(feed, finalized("evt-r8", "res-prelim", MIA, status="CORRECTED"))
    after = (await result_as(feed, ALEX, "res-prelim"))["data"]["node"]
    assert (after["status"], after["releaseStatus"]) == ("CORRECTED", "RELEASED")
    assert [c["value"] for c in after["components"]] == [182.0, 139.0]
    assert await told(feed, "res-prelim", "RESULT_RELEASED") == {ALEX_ID, JORDAN_ID}


# -- messages, statements, appointments ---------------------------------------------------
THREAD = """
query Thread($id: ID!) {
  node(id: $id) {
    ... on MessageThread {
      unreadCount lastMessageAt
      messages(first: 1) { nodes { id body sender { kind name } sentAt } }
    }
  }
}
"""


async def thread_of(portal: Portal, patient_id: str) -> str:
    t = m.MessageThread
    stmt = select(t.id).where(t.patient_id == patient_id).order_by(t.id).limit(1)
    thread_id = await scalar(portal, stmt)
    assert thread_id is not None, f"the demo data gives {patient_id} a thread"
    return str(thread_id)


async def thread_as(portal: Portal, user: str, thread_id: str) -> dict[str, Any]:
    result = await portal.gql(
        THREAD, {"id": to_global_id("MessageThread", thread_id)}, as_user=user
    )
    return result


async def test_a_provider_reply_joins_the_thread_for_every_reader(feed: Portal) -> None:
    thread_id = await thread_of(feed, MIA)
    unread = {
        u: (await thread_as(feed, u, thread_id))["data"]["node"]["unreadCount"]
        for u in (ALEX, JORDAN)
    }
    reply = {
        "threadId": thread_id,
        "providerId": "prv-00002",
        "body": "Her labs look fine.",
        "messageId": "msg-ehr-1",
        "patientId": MIA,
    }
    answer = await applied(feed, event("evt-m1", "PROVIDER_REPLY", reply))
    assert answer["objectId"] == "msg-ehr-1"
    provider = await scalar(
        feed, select(m.Provider.display_name).where(m.Provider.id == "prv-00002")
    )
    for user in (ALEX, JORDAN):
        node = (await thread_as(feed, user, thread_id))["data"]["node"]
        assert node["unreadCount"] == unread[user] + 1
        assert node["lastMessageAt"] == NOW.isoformat()
        [message] = node["messages"]["nodes"]
        assert message["body"] == "Her labs look fine."
        assert message["sender"] == {"kind": "PROVIDER", "name": provider}
    assert await told(feed, thread_id, "MESSAGE_RECEIVED") == {ALEX_ID, JORDAN_ID}
    assert await pushed(feed, "MESSAGE_RECEIVED", "msg-ehr-1") == 1


async def test_a_reply_to_an_adolescent_is_not_told_to_his_parents(feed: Portal) -> None:
    thread_id = await thread_of(feed, LEO)
    reply = {"threadId": thread_id, "providerId": "prv-00002", "body": "Call me."}
    answer = await applied(feed, event("evt-m2", "PROVIDER_REPLY", reply))
    assert answer["objectId"].startswith("msg-")
    assert await told(feed, thread_id, "MESSAGE_RECEIVED") == {LEO_ID}
    leo = (await thread_as(feed, LEO_ACCOUNT, thread_id))["data"]["node"]
    assert leo["messages"]["nodes"][0]["body"] == "Call me."
    parent = await thread_as(feed, ALEX, thread_id)
    assert parent["data"]["node"] is None


STATEMENTS = """
query Statements($id: ID!) {
  patient(id: $id) {
    balance { amountCents }
    statements(first: 100) {
      nodes { id status amountDue { amountCents formatted } lineItems { code patientName } }
    }
  }
}
"""
LINE = {
    "serviceDate": "2026-11-02",
    "description": "Office visit",
    "code": "99213",
    "chargeCents": 20000,
    "insurancePaidCents": 12000,
    "adjustmentCents": 3000,
    "patientCents": 5000,
}


async def test_a_statement_issued_reaches_the_guarantor(feed: Portal) -> None:
    before = await feed.gql(STATEMENTS, {"id": patient_gid(ALEX_PATIENT)}, as_user=ALEX)
    balance = before["data"]["patient"]["balance"]["amountCents"]
    statement = {
        "statementId": "stm-ehr-1",
        "guarantorPatientId": ALEX_PATIENT,
        "accountNumber": "90000001",
        "statementDate": "2026-11-20",
        "dueDate": "2026-12-15",
        "lineItems": [
            LINE | {"patientId": ALEX_PATIENT},
            LINE | {"patientId": MIA, "lineItemId": "sli-ehr-2", "code": "99392"},
        ],
    }
    await applied(feed, event("evt-s1", "STATEMENT_ISSUED", statement))
    after = await feed.gql(STATEMENTS, {"id": patient_gid(ALEX_PATIENT)}, as_user=ALEX)
    patient = after["data"]["patient"]
    assert patient["balance"]["amountCents"] == balance + 10000
    [issued] = [
        s
        for s in patient["statements"]["nodes"]
        if s["id"] == to_global_id("Statement", "stm-ehr-1")
    ]
    assert issued["status"] == "OPEN"
    assert issued["amountDue"] == {"amountCents": 10000, "formatted": "$100.00"}
    # Lines are listed by service date; these two share one, and the first line's id is made
    # up by the portal (random), so their order between them is not given.
    assert sorted(line["code"] for line in issued["lineItems"]) == ["99213", "99392"]
    assert await told(feed, "stm-ehr-1", "STATEMENT_ISSUED") == {ALEX_ID}
    body = await scalar(
        feed, select(m.Notification.body).where(m.Notification.object_id == "stm-ehr-1")
    )
    assert body == "Your statement of 2026-11-20 is ready; amount due $100.00."


APPOINTMENT = """
query Appointment($id: ID!) {
  node(id: $id) { ... on Appointment { status startsAt durationMinutes } }
}
"""


async def upcoming_of(portal: Portal, patient_id: str) -> m.Appointment:
    a = m.Appointment
    stmt = (
        select(a)
        .where(a.patient_id == patient_id, a.starts_at > NOW, a.status == "scheduled")
        .order_by(a.starts_at)
        .limit(1)
    )
    row = await scalar(portal, stmt)
    if row is None:  # the demo data may have none: book one in the clinic
        row = m.Appointment(
            id=f"apt-test-{patient_id}",
            patient_id=patient_id,
            provider_id="prv-00001",
            department_id="dep-001",
            visit_type="Office Visit",
            reason=None,
            starts_at=NOW + timedelta(days=3),
            duration_minutes=30,
            status="scheduled",
            telehealth=False,
            questionnaire_complete=False,
        )
        async with portal.services.session() as session:
            session.add(row)
            await session.commit()
    assert isinstance(row, m.Appointment)
    return row


async def test_an_appointment_cancelled_in_the_clinic(feed: Portal) -> None:
    appointment = await upcoming_of(feed, MIA)
    async with feed.services.session() as session:
        session.add(
            m.Slot(
                id="slt-ehr-1",
                provider_id=appointment.provider_id,
                department_id=appointment.department_id,
                starts_at=appointment.starts_at,
                duration_minutes=30,
                visit_types=["Office Visit"],
                appointment_id=appointment.id,
            )
        )
        await session.commit()
    change = {"appointmentId": appointment.id, "status": "CANCELLED", "patientId": MIA}
    await applied(feed, event("evt-a1", "APPOINTMENT_CHANGED", change))
    gid = to_global_id("Appointment", appointment.id)
    node = (await feed.gql(APPOINTMENT, {"id": gid}, as_user=ALEX))["data"]["node"]
    assert node["status"] == "CANCELLED"
    slot = await scalar(feed, select(m.Slot.appointment_id).where(m.Slot.id == "slt-ehr-1"))
    assert slot is None  # open for booking again
    assert await told(feed, appointment.id, "APPOINTMENT_CHANGED") == {ALEX_ID, JORDAN_ID}
    assert await pushed(feed, "APPOINTMENT_CHANGED", appointment.id) == 1
    title = await scalar(
        feed, select(m.Notification.title).where(m.Notification.object_id == appointment.id)
    )
    assert title == "Appointment cancelled"


async def test_an_adolescents_appointment_moved_in_the_clinic(feed: Portal) -> None:
    appointment = await upcoming_of(feed, LEO)
    moved = appointment.starts_at + timedelta(days=1, hours=2)
    change = {"appointmentId": appointment.id, "startsAt": moved.isoformat(), "durationMinutes": 45}
    await applied(feed, event("evt-a2", "APPOINTMENT_CHANGED", change))
    gid = to_global_id("Appointment", appointment.id)
    node = (await feed.gql(APPOINTMENT, {"id": gid}, as_user=LEO_ACCOUNT))["data"]["node"]
    assert (node["status"], node["startsAt"], node["durationMinutes"]) == (
        appointment.status.upper(),
        moved.isoformat(),
        45,
    )
    # Appointments stay open to a parent of an adolescent: all three are told.
    assert await told(feed, appointment.id, "APPOINTMENT_CHANGED") == {LEO_ID, ALEX_ID, JORDAN_ID}
    title = await scalar(
        feed,
        select(m.Notification.title).where(
            m.Notification.object_id == appointment.id, m.Notification.account_id == LEO_ID
        ),
    )
    assert title == "Appointment rescheduled"


# -- once only ----------------------------------------------------------------------------
async def test_a_resent_event_changes_nothing(feed: Portal) -> None:
    thread_id = await thread_of(feed, MIA)
    reply = event(
        "evt-d1",
        "PROVIDER_REPLY",
        {"threadId": thread_id, "providerId": "prv-00002", "body": "Once."},
    )
    await applied(feed, reply)
    before = await counts(feed)
    again = await send(feed, reply)
    assert (again.status_code, again.json()) == (200, {"status": "duplicate", "id": "evt-d1"})
    reused = await send(feed, reply | {"data": reply["data"] | {"body": "Twice?"}})
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "EVENT_ID_REUSED"
    assert await counts(feed) == before


async def test_concurrent_duplicates_apply_once(feed: Portal, fresh_db: Database) -> None:
    if fresh_db.backend != "postgres":
        pytest.skip("concurrent writers: proven on PostgreSQL (SQLite serializes writes)")
    thread_id = await thread_of(feed, MIA)
    reply = event(
        "evt-c1",
        "PROVIDER_REPLY",
        {"threadId": thread_id, "providerId": "prv-00002", "body": "Just once."},
    )
    before = await counts(feed)
    responses = await asyncio.gather(*(send(feed, reply) for _ in range(12)))
    statuses = sorted(r.json()["status"] for r in responses)
    assert [r.status_code for r in responses] == [200] * 12
    assert statuses == ["applied"] + ["duplicate"] * 11
    after = await counts(feed)
    assert after["Message"] == before["Message"] + 1
    assert after["IntegrationEvent"] == before["IntegrationEvent"] + 1
    assert await told(feed, thread_id, "MESSAGE_RECEIVED") == {ALEX_ID, JORDAN_ID}


# -- refusals --------------------------------------------------------------------------------
async def test_bad_payloads_are_422_and_change_nothing(feed: Portal) -> None:
    thread_id = await thread_of(feed, MIA)
    leo_thread = await thread_of(feed, LEO)
    appointment = await upcoming_of(feed, MIA)
    before = await counts(feed)
    statement = {
        "statementId": "stm-ehr-9",
        "guarantorPatientId": ALEX_PATIENT,
        "accountNumber": "1",
        "statementDate": "2026-11-20",
        "dueDate": "2026-12-15",
        "lineItems": [LINE | {"patientId": "pat-nobody"}],
    }
    existing_statement = await scalar(feed, select(m.Statement.id).limit(1))
    cases: list[tuple[dict[str, Any], list[str]]] = [
        (event("evt-x1", "RESULT_EXPLODED", {}), ["type"]),
        (
            {"id": "evt-x2", "type": "PROVIDER_REPLY", "data": {}},
            ["occurredAt", "data.threadId", "data.providerId", "data.body"],
        ),
        (finalized("evt-x3", "res-x", "pat-nobody"), ["data.patientId"]),
        (
            finalized("evt-x4", "res-x", MIA, orderingProviderId="prv-nobody"),
            ["data.orderingProviderId"],
        ),
        (
            finalized("evt-x5", "res-x", MIA, components=[{"code": "1", "name": "x", "flag": "H"}]),
            ["data.components[0].value", "data.components[0].flag"],
        ),
        (event("evt-x6", "RESULT_RELEASED", {"resultId": "res-nobody"}), ["data.resultId"]),
        (
            event(
                "evt-x7",
                "PROVIDER_REPLY",
                {"threadId": "thr-nobody", "providerId": "prv-00002", "body": "x"},
            ),
            ["data.threadId"],
        ),
        (
            event(
                "evt-x8",
                "PROVIDER_REPLY",
                {"threadId": thread_id, "providerId": "prv-nobody", "body": "x"},
            ),
            ["data.providerId"],
        ),
        (
            event(
                "evt-x9",
                "PROVIDER_REPLY",
                {"threadId": leo_thread, "providerId": "prv-00002", "body": "x", "patientId": MIA},
            ),
            ["data.patientId"],
        ),
        (event("evt-x10", "STATEMENT_ISSUED", statement), ["data.lineItems[0].patientId"]),
        (
            event(
                "evt-x11",
                "STATEMENT_ISSUED",
                statement
                | {"statementId": existing_statement, "lineItems": [LINE | {"patientId": MIA}]},
            ),
            ["data.statementId"],
        ),
        (
            event(
                "evt-x12",
                "APPOINTMENT_CHANGED",
                {"appointmentId": "apt-nobody", "status": "CANCELLED"},
            ),
            ["data.appointmentId"],
        ),
        (
            event(
                "evt-x13",
                "APPOINTMENT_CHANGED",
                {"appointmentId": appointment.id, "departmentId": "dep-nobody"},
            ),
            ["data.departmentId"],
        ),
    ]
    for body, fields in cases:
        response = await send(feed, body)
        assert response.status_code == 422, (body, response.text)
        answer = response.json()
        assert answer["status"] == "rejected"
        assert [e["field"] for e in answer["errors"]] == fields, body
        assert all(e["message"] for e in answer["errors"])
    assert await counts(feed) == before
    # A refused event id is not used up: the corrected event applies.
    fixed = event(
        "evt-x7", "PROVIDER_REPLY", {"threadId": thread_id, "providerId": "prv-00002", "body": "x"}
    )
    await applied(feed, fixed)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (finalized("evt-n1", "res-n1", MIA, name="Panel\u0000"), ["data.name"]),
        (
            finalized(
                "evt-n2",
                "res-n2",
                MIA,
                components=[{"code": "1", "name": "G", "value": 1, "unit": "mg\u0000"}],
            ),
            ["data.components[0].unit"],
        ),
        (
            finalized("evt-n3", "res-n3", MIA, collectedAt="0001-01-01T00:00:00+14:00"),
            ["data.collectedAt"],
        ),
        (
            finalized("evt-n4", "res-n4", MIA, resultedAt="9999-12-31T23:59:59-14:00"),
            ["data.resultedAt"],
        ),
        (finalized("evt-n5\n", "res-n5", MIA), ["id"]),
        (finalized("evt-n6", "res-n6\n", MIA), ["data.resultId"]),
    ],
)
async def test_text_and_times_the_database_cannot_take_are_422(
    feed: Portal, caplog: pytest.LogCaptureFixture, body: dict[str, Any], fields: list[str]
) -> None:
    """NUL (PostgreSQL refuses it in text), a time out of range once in UTC, and an id with
    a trailing newline (a regex's `$` lets it through): refused, never a 500."""
    before = await counts(feed)
    response = await send(feed, body)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == fields
    assert await counts(feed) == before
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_malformed_bodies_are_refused(feed: Portal) -> None:
    headers = {"authorization": f"Bearer {TOKEN}"}
    post = feed.client.post
    not_json = await post(
        "/integration/events", content=b"{", headers=headers | {"content-type": "application/json"}
    )
    assert (not_json.status_code, not_json.json()["error"]["code"]) == (400, "INVALID_JSON")
    deep = b"[" * 100_000 + b"]" * 100_000
    nested = await post(
        "/integration/events", content=deep, headers=headers | {"content-type": "application/json"}
    )
    assert (nested.status_code, nested.json()["error"]["code"]) == (400, "INVALID_JSON")
    form = await post(
        "/integration/events",
        content=b"a=1",
        headers=headers | {"content-type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415
    huge = {
        "id": "evt-big",
        "type": "PROVIDER_REPLY",
        "occurredAt": AT,
        "data": {"body": "x" * (1 << 20)},
    }
    too_large = await send(feed, huge)
    assert too_large.status_code == 413


async def test_service_credentials_are_required(feed: Portal) -> None:
    body = finalized("evt-k1", "res-k1", MIA)
    before = await counts(feed)
    for token in (None, "wrong-token", await feed.token(ALEX)):  # a patient's JWT is refused too
        response = await send(feed, body, token)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"
        assert response.headers["www-authenticate"] == "Bearer"
    basic = await feed.client.post(
        "/integration/events", json=body, headers={"authorization": f"Basic {TOKEN}"}
    )
    assert basic.status_code == 401
    assert await counts(feed) == before


async def test_the_service_token_is_no_ones_access_token(feed: Portal) -> None:
    """The edge recognises it (portal/auth.py), and only the feed takes it."""
    headers = {"authorization": f"Bearer {TOKEN}"}
    query = {"query": "{ viewer { account { username } } }"}
    answer = (await feed.client.post("/graphql", json=query, headers=headers)).json()
    assert answer["data"] == {"viewer": None}
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    pdf = await feed.client.get(
        f"/patients/{to_global_id('Patient', MIA)}/immunizations.pdf", headers=headers
    )
    assert pdf.status_code == 401


def test_production_refuses_the_development_integration_token() -> None:
    secret = "s" * 40
    for token in (DEV_INTEGRATION_TOKEN, "short"):
        settings = Settings(env="production", jwt_secret=secret, integration_token=token)
        with pytest.raises(ConfigError, match="INTEGRATION_TOKEN"):
            settings.check()


PREFERENCES = """
mutation Prefs($input: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $input) { errors { code } }
}
"""


async def test_a_reply_reaches_each_reader_by_the_channels_they_chose(feed: Portal) -> None:
    """Preferences set over the API decide what the feed's write sends: Alex chose SMS only
    for messages, Jordan keeps the default (in-app and email)."""
    prefs = {"preferences": [{"kind": "MESSAGE_RECEIVED", "channels": ["SMS"]}]}
    chosen = await feed.gql(PREFERENCES, {"input": prefs}, as_user=ALEX)
    assert chosen["data"]["updateNotificationPreferences"]["errors"] == []
    async with feed.services.session() as session:
        rows = await session.execute(
            select(m.Account.id, m.Account.email).where(m.Account.id.in_([ALEX_ID, JORDAN_ID]))
        )
        emails = {account: email for account, email in rows.all()}
        mail_before = set((await session.scalars(select(m.OutgoingMail.id))).all())
    thread_id = await thread_of(feed, MIA)
    reply = {"threadId": thread_id, "providerId": "prv-00002", "body": "All clear."}
    await applied(feed, event("evt-pref-1", "PROVIDER_REPLY", reply))

    assert await told(feed, thread_id, "MESSAGE_RECEIVED") == {JORDAN_ID}  # in app
    async with feed.services.session() as session:
        d = m.NotificationDelivery
        deliveries = (await session.execute(select(d.account_id, d.channel, d.kind))).all()
        mailed = (
            await session.scalars(
                select(m.OutgoingMail.to_address).where(m.OutgoingMail.id.not_in(mail_before))
            )
        ).all()
    assert [tuple(r) for r in deliveries] == [(ALEX_ID, "SMS", "MESSAGE_RECEIVED")]
    assert sorted(mailed) == [emails[JORDAN_ID]]
