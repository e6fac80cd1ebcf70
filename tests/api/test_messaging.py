"""sendMessage, markThreadRead, messagingTerms and requestRefill through real HTTP: the happy
paths, every refusal with its code, and proof that a refusal changed nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from domain.scopes import Scope
from persistence import models as m
from runtime.messaging_settings import messaging_from_env
from schema.base import from_global_id, to_global_id
from tests.conftest import (
    ACCOUNT_IDS,
    ALEX,
    JORDAN,
    LEO_ACCOUNT,
    NOW,
    SUSAN,
    Database,
    Portal,
    _portal,
    errors_of,
    patient_gid,
)

ALEX_PATIENT, JORDAN_PATIENT, MIA, LEO, MARGARET = (
    "pat-0000001",
    "pat-0000002",
    "pat-0000003",
    "pat-0000004",
    "pat-0000005",
)
ALEX_PCP = "prv-00002"

SEND = """
mutation Send($input: SendMessageInput!) {
  sendMessage(input: $input) {
    message { id body sentAt sender { kind name } attachments { id } }
    thread {
      id subject category careTeam provider { id } patient { id } lastMessageAt
      messages(first: 10) { nodes { id body } }
    }
    errors { code message field }
  }
}
"""

MARK_READ = """
mutation MarkRead($input: MarkThreadReadInput!) {
  markThreadRead(input: $input) {
    thread { id unreadCount patient { id unreadMessageCount } }
    errors { code }
  }
}
"""

UNREAD = """
query Unread($id: ID!, $thread: ID!) {
  patient(id: $id) { unreadMessageCount }
  node(id: $thread) { ... on MessageThread { unreadCount } }
}
"""

TERMS = """
query Terms($id: ID!, $category: MessageCategory!, $provider: ID) {
  patient(id: $id) {
    messagingTerms(category: $category, recipientProviderId: $provider) {
      category recipientKind billedAsEVisit billingNotice
      estimatedCharge { amountCents }
      expectedReplyBusinessDays expectedReplyBy
    }
  }
}
"""

THREAD = """
query Seen($id: ID!) {
  node(id: $id) { ... on MessageThread { messages(first: 10) { nodes { body sender { name } } } } }
}
"""

REFILL = """
mutation Refill($input: RequestRefillInput!) {
  requestRefill(input: $input) {
    thread {
      id subject category careTeam provider { id } patient { id }
      messages(first: 10) { nodes { body sender { kind name } } }
    }
    medication { id refillsRemaining }
    errors { code message field }
  }
}
"""


def gid(type_name: str, internal_id: str) -> str:
    return str(to_global_id(type_name, internal_id))


def internal_of(global_id: str) -> str:
    """The internal id behind any global id."""
    return from_global_id(global_id)[1]


def new_thread(patient_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "patientId": patient_gid(patient_id),
        "category": "MEDICAL_QUESTION",
        "recipientProviderId": gid("Provider", ALEX_PCP),
        "subject": "Knee pain after running",
        "body": "My left knee hurts after I run more than 5 km. Should I rest it?",
        "acknowledgeEVisitBilling": True,
        **fields,
    }


async def send(portal: Portal, who: str, **fields: Any) -> dict[str, Any]:
    return await portal.gql(SEND, {"input": fields}, as_user=who)


COUNTED = (m.MessageThread, m.Message, m.Attachment, m.OutboxEvent, m.RefillRequest, m.ThreadRead)


async def snapshot(portal: Portal) -> dict[str, Any]:
    """Row counts of everything these mutations write, and every thread's last activity."""
    async with portal.services.session() as session:
        counts: dict[str, Any] = {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in COUNTED
        }
        reads = await session.execute(
            select(m.ThreadRead.thread_id, m.ThreadRead.account_id, m.ThreadRead.read_through)
        )
        counts["reads"] = sorted(reads.all())
        last = await session.execute(select(m.MessageThread.id, m.MessageThread.last_message_at))
        counts["last"] = sorted(last.all())
    return counts


async def outbox_events(portal: Portal) -> list[m.OutboxEvent]:
    async with portal.services.session() as session:
        stmt = select(m.OutboxEvent).order_by(m.OutboxEvent.seq)
        return list((await session.scalars(stmt)).all())


async def set_scopes(portal: Portal, patient_id: str, account: str, scopes: list[Scope]) -> None:
    async with portal.services.session() as session:
        await session.execute(
            update(m.ProxyGrant)
            .where(
                m.ProxyGrant.patient_id == patient_id,
                m.ProxyGrant.proxy_account_id == ACCOUNT_IDS[account],
            )
            .values(scopes=[s.value for s in scopes])
        )
        await session.commit()


# -- new threads and replies ------------------------------------------------------------------
async def test_a_patient_starts_a_thread_with_her_pcp_and_replies(fresh_portal: Portal) -> None:
    portal = fresh_portal
    result = await send(portal, ALEX, **new_thread(ALEX_PATIENT, body="  Knee hurts.  "))
    payload = result["data"]["sendMessage"]
    assert payload["errors"] == []
    thread, message = payload["thread"], payload["message"]
    assert thread["category"] == "MEDICAL_QUESTION"
    assert thread["subject"] == "Knee pain after running"
    assert thread["provider"] == {"id": gid("Provider", ALEX_PCP)}
    assert thread["careTeam"] is None
    assert thread["patient"] == {"id": patient_gid(ALEX_PATIENT)}
    assert message["body"] == "Knee hurts."
    assert message["sender"] == {"kind": "PATIENT", "name": "Alexandra Rivera"}
    assert [n["id"] for n in thread["messages"]["nodes"]] == [message["id"]]

    portal.clock.advance(timedelta(minutes=5))
    reply = await send(
        portal, ALEX, patientId=patient_gid(ALEX_PATIENT), threadId=thread["id"], body="Also: ice?"
    )
    payload = reply["data"]["sendMessage"]
    assert payload["errors"] == []
    assert payload["thread"]["id"] == thread["id"]
    assert payload["thread"]["lastMessageAt"] == (NOW + timedelta(minutes=5)).isoformat()
    bodies = [n["body"] for n in payload["thread"]["messages"]["nodes"]]
    assert bodies == ["Also: ice?", "Knee hurts."]

    # The events for the patient's other sessions and proxies, one per message.
    events = [e for e in await outbox_events(portal) if e.kind == "MESSAGE_RECEIVED"]
    assert [e.patient_id for e in events] == [ALEX_PATIENT, ALEX_PATIENT]
    async with portal.services.session() as session:
        stored = await session.scalars(
            select(m.Message).where(m.Message.id.in_([e.object_id for e in events]))
        )
        assert {row.sender_id for row in stored} == {ACCOUNT_IDS[ALEX]}


async def test_a_thread_without_a_provider_goes_to_the_categorys_pool(
    fresh_portal: Portal,
) -> None:
    fields = new_thread(ALEX_PATIENT, category="SCHEDULING", recipientProviderId=None)
    fields["acknowledgeEVisitBilling"] = False  # a scheduling question is never billed
    result = await send(fresh_portal, ALEX, **fields)
    thread = result["data"]["sendMessage"]["thread"]
    assert thread["careTeam"] == "Scheduling - Access Center"
    assert thread["provider"] is None
    # A medical question without a named provider goes to the PCP.
    result = await send(fresh_portal, ALEX, **new_thread(ALEX_PATIENT, recipientProviderId=None))
    assert result["data"]["sendMessage"]["thread"]["provider"] == {"id": gid("Provider", ALEX_PCP)}


async def test_a_proxy_writes_for_a_child_as_herself(fresh_portal: Portal) -> None:
    portal = fresh_portal
    result = await send(portal, ALEX, **new_thread(MIA, recipientProviderId=None))
    payload = result["data"]["sendMessage"]
    assert payload["errors"] == []
    assert payload["message"]["sender"] == {"kind": "PATIENT", "name": "Alexandra Rivera"}
    assert payload["thread"]["patient"] == {"id": patient_gid(MIA)}
    events = [e for e in await outbox_events(portal) if e.kind == "MESSAGE_RECEIVED"]
    assert [(e.patient_id, e.object_id) for e in events] == [
        (MIA, internal_of(payload["message"]["id"]))
    ]
    # The other parent sees it in Mia's threads.
    seen = await portal.gql(THREAD, {"id": payload["thread"]["id"]}, as_user=JORDAN)
    assert "errors" not in seen, seen
    nodes = seen["data"]["node"]["messages"]["nodes"]
    assert nodes == [{"body": payload["message"]["body"], "sender": {"name": "Alexandra Rivera"}}]


# -- refusals --------------------------------------------------------------------------------
async def _outside_care_team(portal: Portal) -> str:
    async with portal.services.session() as session:
        seen = select(m.Appointment.provider_id).where(m.Appointment.patient_id == ALEX_PATIENT)
        stmt = select(m.Provider.id).where(m.Provider.id.not_in(seen), m.Provider.id != ALEX_PCP)
        return str((await session.scalars(stmt.order_by(m.Provider.id))).first())


async def _someone_elses_thread(portal: Portal) -> str:
    async with portal.services.session() as session:
        stmt = select(m.MessageThread.id).where(m.MessageThread.patient_id == MIA)
        return str((await session.scalars(stmt)).first())


async def test_each_invalid_message_is_refused_with_its_code_and_changes_nothing(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    limits = portal.services.settings.messaging
    stranger = await _outside_care_team(portal)
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("BODY_EMPTY", "body", {"body": " \n\t "}),
        ("BODY_TOO_LONG", "body", {"body": "x" * (limits.max_body_chars + 1)}),
        ("SUBJECT_REQUIRED", "subject", {"subject": "   "}),
        ("SUBJECT_REQUIRED", "subject", {"subject": None}),
        ("SUBJECT_TOO_LONG", "subject", {"subject": "s" * (limits.max_subject_chars + 1)}),
        ("CATEGORY_REQUIRED", "category", {"category": None}),
        (
            "RECIPIENT_NOT_IN_CARE_TEAM",
            "recipientProviderId",
            {"recipientProviderId": gid("Provider", stranger)},
        ),
        (
            "EVISIT_NOT_ACKNOWLEDGED",
            "acknowledgeEVisitBilling",
            {"acknowledgeEVisitBilling": False},
        ),
        (
            "THREAD_NOT_FOUND",
            "threadId",
            {"threadId": gid("MessageThread", await _someone_elses_thread(portal))},
        ),
        ("THREAD_NOT_FOUND", "threadId", {"threadId": gid("MessageThread", "thr-nope")}),
    ]
    before = await snapshot(portal)
    for code, field, change in cases:
        result = await send(portal, ALEX, **new_thread(ALEX_PATIENT, **change))
        payload = result["data"]["sendMessage"]
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)], code
        assert payload["message"] is None
        assert payload["thread"] is None
        assert await snapshot(portal) == before, code
    # Right at the limits, it goes through.
    ok = new_thread(
        ALEX_PATIENT, body="b" * limits.max_body_chars, subject="s" * limits.max_subject_chars
    )
    assert (await send(portal, ALEX, **ok))["data"]["sendMessage"]["errors"] == []


async def test_who_may_not_send_gets_forbidden_and_nothing_is_written(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    await set_scopes(portal, MARGARET, SUSAN, [Scope.APPOINTMENTS, Scope.MEDICATIONS])
    before = await snapshot(portal)
    refused = [
        (ALEX, LEO, "ADOLESCENT_CONFIDENTIAL"),  # parent of an adolescent
        (JORDAN, LEO, "ADOLESCENT_CONFIDENTIAL"),
        (SUSAN, MARGARET, "PROXY_SCOPE"),  # caregiver whose grant lacks MESSAGES
        (ALEX, MARGARET, "NOT_A_PATIENT"),  # not hers at all
    ]
    for who, patient_id, reason in refused:
        result = await send(portal, who, **new_thread(patient_id, recipientProviderId=None))
        assert errors_of(result) == [("FORBIDDEN", reason)], (who, patient_id)
        assert result["data"] is None
    anonymous = await portal.gql(SEND, {"input": new_thread(ALEX_PATIENT)})
    assert errors_of(anonymous) == [("UNAUTHENTICATED", None)]
    assert await snapshot(portal) == before
    # Leo himself may.
    result = await send(portal, LEO_ACCOUNT, **new_thread(LEO, recipientProviderId=None))
    assert result["data"]["sendMessage"]["errors"] == []


# -- what a message costs and when to expect a reply ------------------------------------------
async def test_messaging_terms_before_sending(fresh_portal: Portal) -> None:
    portal = fresh_portal
    # NOW is Sunday 2026-11-22: two business days are Monday and Tuesday.
    billed = await portal.gql(
        TERMS,
        {
            "id": patient_gid(ALEX_PATIENT),
            "category": "MEDICAL_QUESTION",
            "provider": gid("Provider", ALEX_PCP),
        },
        as_user=ALEX,
    )
    terms = billed["data"]["patient"]["messagingTerms"]
    assert terms["billedAsEVisit"] is True
    assert terms["recipientKind"] == "PROVIDER"
    assert "e-visit" in terms["billingNotice"]
    assert terms["expectedReplyBusinessDays"] == 2
    assert terms["expectedReplyBy"] == "2026-11-24"

    portal.clock.advance(timedelta(days=5))  # Friday: Monday and Tuesday again
    pool = await portal.gql(
        TERMS, {"id": patient_gid(ALEX_PATIENT), "category": "BILLING"}, as_user=ALEX
    )
    terms = pool["data"]["patient"]["messagingTerms"]
    assert terms["billedAsEVisit"] is False
    assert terms["recipientKind"] == "POOL"
    assert terms["billingNotice"] is None
    assert terms["estimatedCharge"] is None
    assert terms["expectedReplyBy"] == "2026-12-01"

    refused = await portal.gql(TERMS, {"id": patient_gid(LEO), "category": "BILLING"}, as_user=ALEX)
    assert errors_of(refused) == [("FORBIDDEN", "ADOLESCENT_CONFIDENTIAL")]


async def test_messaging_terms_show_the_configured_e_visit_estimate(seeded_db: Database) -> None:
    policy = messaging_from_env({"MESSAGE_EVISIT_FEE_CENTS": "3500"})
    async for portal in _portal(seeded_db, messaging=policy):
        variables = {"id": patient_gid(ALEX_PATIENT), "provider": gid("Provider", ALEX_PCP)}
        billed = await portal.gql(TERMS, variables | {"category": "MEDICAL_QUESTION"}, as_user=ALEX)
        terms = billed["data"]["patient"]["messagingTerms"]
        assert terms["billedAsEVisit"] is True
        assert terms["estimatedCharge"] == {"amountCents": 3500}
        # Only a message that may be billed carries the estimate.
        pool = await portal.gql(
            TERMS, {"id": patient_gid(ALEX_PATIENT), "category": "BILLING"}, as_user=ALEX
        )
        assert pool["data"]["patient"]["messagingTerms"]["estimatedCharge"] is None


# -- read marks, per reader ----------------------------------------------------------------------
async def _grant_jordan_alexs_messages(portal: Portal) -> None:
    async with portal.services.session() as session:
        session.add(
            m.ProxyGrant(
                id="pxg-test-spouse",
                patient_id=ALEX_PATIENT,
                proxy_account_id=ACCOUNT_IDS[JORDAN],
                relationship="spouse",
                scopes=["messages"],
                status="active",
                starts_at=NOW - timedelta(days=1),
                ends_at=None,
            )
        )
        await session.commit()


async def _provider_reply(portal: Portal, thread_id: str) -> None:
    async with portal.services.session() as session:
        session.add(
            m.Message(
                id="msg-provider-reply",
                thread_id=thread_id,
                sender_kind="provider",
                sender_id=ALEX_PCP,
                sender_name="Dr. Provider",
                body="Rest it for a week.",
                sent_at=portal.clock.now(),
            )
        )
        await session.commit()


async def _unread(portal: Portal, who: str, thread: str) -> tuple[int, int]:
    result = await portal.gql(
        UNREAD, {"id": patient_gid(ALEX_PATIENT), "thread": thread}, as_user=who
    )
    assert "errors" not in result, result
    return result["data"]["patient"]["unreadMessageCount"], result["data"]["node"]["unreadCount"]


async def test_marking_read_is_per_reader(fresh_portal: Portal) -> None:
    portal = fresh_portal
    await _grant_jordan_alexs_messages(portal)
    sent = await send(portal, ALEX, **new_thread(ALEX_PATIENT))
    thread = sent["data"]["sendMessage"]["thread"]["id"]
    portal.clock.advance(timedelta(hours=1))
    await _provider_reply(portal, internal_of(thread))
    alex_before, jordan_before = (
        await _unread(portal, ALEX, thread),
        await _unread(portal, JORDAN, thread),
    )
    assert alex_before[1] == jordan_before[1] == 1

    portal.clock.advance(timedelta(minutes=1))
    result = await portal.gql(MARK_READ, {"input": {"threadId": thread}}, as_user=ALEX)
    payload = result["data"]["markThreadRead"]
    assert payload["errors"] == []
    assert payload["thread"]["unreadCount"] == 0
    assert payload["thread"]["patient"]["unreadMessageCount"] == alex_before[0] - 1
    assert await _unread(portal, ALEX, thread) == (alex_before[0] - 1, 0)
    assert await _unread(portal, JORDAN, thread) == jordan_before  # the other reader: unchanged

    # A mark never moves back (a mark from the future, as another instance's clock may give).
    async with portal.services.session() as session:
        later = NOW + timedelta(days=1)
        await session.execute(
            update(m.ThreadRead)
            .where(m.ThreadRead.account_id == ACCOUNT_IDS[ALEX])
            .where(m.ThreadRead.thread_id == internal_of(thread))
            .values(read_through=later)
        )
        await session.commit()
    await portal.gql(MARK_READ, {"input": {"threadId": thread}}, as_user=ALEX)
    async with portal.services.session() as session:
        mark = await session.get(m.ThreadRead, (internal_of(thread), ACCOUNT_IDS[ALEX]))
        assert mark is not None
        assert mark.read_through == later

    portal.clock.advance(timedelta(hours=3))
    await portal.gql(MARK_READ, {"input": {"threadId": thread}}, as_user=JORDAN)
    assert await _unread(portal, JORDAN, thread) == (jordan_before[0] - 1, 0)


async def test_marking_read_needs_the_messages_area(fresh_portal: Portal) -> None:
    portal = fresh_portal
    async with portal.services.session() as session:
        stmt = select(m.MessageThread.id).where(m.MessageThread.patient_id == LEO)
        leos = str((await session.scalars(stmt)).first())
    before = await snapshot(portal)
    for thread in (gid("MessageThread", leos), gid("MessageThread", "thr-unknown")):
        result = await portal.gql(MARK_READ, {"input": {"threadId": thread}}, as_user=ALEX)
        assert errors_of(result)[0][0] == "FORBIDDEN"
    assert errors_of(
        await portal.gql(MARK_READ, {"input": {"threadId": gid("Patient", LEO)}}, as_user=ALEX)
    ) == [("BAD_USER_INPUT", None)]
    assert await snapshot(portal) == before
    ok = await portal.gql(
        MARK_READ, {"input": {"threadId": gid("MessageThread", leos)}}, as_user=LEO_ACCOUNT
    )
    assert ok["data"]["markThreadRead"]["thread"]["unreadCount"] == 0


# -- refills -----------------------------------------------------------------------------------
async def test_a_refill_request_is_a_refill_thread_to_the_prescriber(fresh_portal: Portal) -> None:
    portal = fresh_portal
    result = await portal.gql(
        REFILL,
        {"input": {"medicationId": gid("Medication", "med-0000001"), "note": "Running low."}},
        as_user=ALEX,
    )
    payload = result["data"]["requestRefill"]
    assert payload["errors"] == []
    thread = payload["thread"]
    assert thread["category"] == "REFILL"
    assert thread["subject"] == "Refill request: Cyclobenzaprine 5 mg tablet"
    assert thread["provider"] == {"id": gid("Provider", "prv-00002")}  # the prescriber
    [message] = thread["messages"]["nodes"]
    assert message["sender"] == {"kind": "PATIENT", "name": "Alexandra Rivera"}
    assert "Pharmacy: Walgreens #5531 - Main St, Worcester" in message["body"]  # on file
    assert "Note: Running low." in message["body"]
    assert payload["medication"] == {"id": gid("Medication", "med-0000001"), "refillsRemaining": 2}
    async with portal.services.session() as session:
        [request] = (await session.scalars(select(m.RefillRequest))).all()
    assert (request.medication_id, request.patient_id, request.requested_by) == (
        "med-0000001",
        ALEX_PATIENT,
        ACCOUNT_IDS[ALEX],
    )
    assert request.thread_id == internal_of(thread["id"])
    events = [e for e in await outbox_events(portal) if e.kind == "MESSAGE_RECEIVED"]
    assert [e.patient_id for e in events] == [ALEX_PATIENT]

    # A proxy with MEDICATIONS and MESSAGES asks for another pharmacy.
    result = await portal.gql(
        REFILL,
        {"input": {"medicationId": gid("Medication", "med-0000008"), "pharmacy": "CVS #12"}},
        as_user=SUSAN,
    )
    thread = result["data"]["requestRefill"]["thread"]
    assert thread["patient"] == {"id": patient_gid(MARGARET)}
    assert "Pharmacy: CVS #12" in thread["messages"]["nodes"][0]["body"]
    assert thread["messages"]["nodes"][0]["sender"]["name"] == "Susan Walsh"


@pytest.mark.parametrize(
    ("who", "medication", "pharmacy", "code"),
    [
        pytest.param(SUSAN, "med-0000007", None, "NO_REFILLS_REMAINING", id="no-refills"),
        pytest.param(JORDAN, "med-0000004", None, "MEDICATION_INACTIVE", id="discontinued"),
        pytest.param(ALEX, "med-0000001", "p" * 201, "PHARMACY_TOO_LONG", id="pharmacy"),
    ],
)
async def test_refills_that_cannot_be_given_are_refused(
    fresh_portal: Portal, who: str, medication: str, pharmacy: str | None, code: str
) -> None:
    portal = fresh_portal
    before = await snapshot(portal)
    variables = {"input": {"medicationId": gid("Medication", medication), "pharmacy": pharmacy}}
    result = await portal.gql(REFILL, variables, as_user=who)
    payload = result["data"]["requestRefill"]
    assert [e["code"] for e in payload["errors"]] == [code]
    assert payload["thread"] is None
    if code == "NO_REFILLS_REMAINING":
        assert "No refills remain" in payload["errors"][0]["message"]
    assert await snapshot(portal) == before


async def test_refills_need_medications_and_messages(fresh_portal: Portal) -> None:
    portal = fresh_portal
    await set_scopes(portal, MARGARET, SUSAN, [Scope.MEDICATIONS])
    before = await snapshot(portal)
    refused = [
        (ALEX, "med-0000005", "ADOLESCENT_CONFIDENTIAL"),  # Leo's inhaler
        (SUSAN, "med-0000008", "PROXY_SCOPE"),  # MEDICATIONS but not MESSAGES
        (ALEX, "med-0000008", "NOT_A_PATIENT"),
        (ALEX, "med-unknown", "NOT_A_PATIENT"),
    ]
    for who, medication, reason in refused:
        variables = {"input": {"medicationId": gid("Medication", medication)}}
        result = await portal.gql(REFILL, variables, as_user=who)
        assert errors_of(result) == [("FORBIDDEN", reason)], (who, medication)
    assert await snapshot(portal) == before
