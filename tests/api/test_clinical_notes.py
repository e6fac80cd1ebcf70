"""Clinical notes end to end: NOTE_SIGNED on the EHR feed, the patient's list, amendments,
withheld notes, after-visit summaries (and their PDF), sensitive categories and the
patient's privacy controls, through real HTTP on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select

from persistence import models as m
from schema.base import to_global_id
from tests.conftest import (
    ACCOUNT_IDS,
    ALEX,
    JORDAN,
    NOW,
    SUSAN,
    Database,
    Portal,
    _portal,
    errors_of,
    patient_gid,
)

TOKEN = "test-integration-token-notes-0123456789"
ALEX_PT, MARGARET = "pat-0000001", "pat-0000005"
AT = (NOW - timedelta(minutes=10)).isoformat()
PROVIDER = "prv-00001"


@pytest.fixture
async def feed(fresh_db: Database) -> AsyncIterator[Portal]:
    async for p in _portal(fresh_db, integration_token=TOKEN):
        yield p


async def send(portal: Portal, body: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {TOKEN}"}
    return await portal.client.post("/integration/events", json=body, headers=headers)


def signed(event_id: str, note_id: str, patient_id: str = ALEX_PT, **data: Any) -> dict[str, Any]:
    body = {
        "noteId": note_id,
        "patientId": patient_id,
        "kind": "PROGRESS_NOTE",
        "title": "Follow-up",
        "text": f"Text of {note_id}.",
        "authorProviderId": PROVIDER,
    }
    return {"id": event_id, "type": "NOTE_SIGNED", "occurredAt": AT, "data": body | data}


async def apply(portal: Portal, body: dict[str, Any]) -> None:
    response = await send(portal, body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "applied"


def gid(note_id: str) -> str:
    return str(to_global_id("ClinicalNote", note_id))


async def completed_visit(portal: Portal, patient_id: str) -> str:
    a = m.Appointment
    stmt = (
        select(a.id)
        .where(a.patient_id == patient_id, a.status == "completed")
        .order_by(a.starts_at.desc())
    )
    async with portal.services.session() as session:
        found = await session.scalar(stmt)
    assert found is not None
    return found


async def give_alex_two_proxies(portal: Portal) -> None:
    """Jordan (spouse) and Susan (caregiver) may both read every area of Alex's record."""
    every = ["appointments", "results", "messages", "billing", "health_summary"]
    every += ["medications", "clinical_notes"]
    rows = [
        {
            "id": f"pxg-test-{who}",
            "patient_id": ALEX_PT,
            "proxy_account_id": ACCOUNT_IDS[who],
            "relationship": relationship,
            "scopes": every,
            "status": "active",
            "starts_at": NOW - timedelta(days=30),
            "ends_at": None,
            "invitee_email": None,
            "revoked_at": None,
            "opened_note_categories": [],
        }
        for who, relationship in ((JORDAN, "spouse"), (SUSAN, "caregiver"))
    ]
    async with portal.services.session() as session, session.begin():
        await session.execute(insert(m.ProxyGrant), rows)


LIST = """query($id: ID!) { patient(id: $id) { clinicalNotes(first: 50) { nodes {
  id kind title authorName signedAt status sensitiveCategory hiddenFromProxies
  author { id } } } } }"""
ONE = """query($id: ID!) { node(id: $id) { ... on ClinicalNote {
  id kind title text status authorName withheld { exception reason }
  appointment { id } supersedes { id text status } supersededBy { id } pdfUrl } } }"""


async def listed(portal: Portal, user: str, patient_id: str = ALEX_PT) -> list[str]:
    result = await portal.gql(LIST, {"id": patient_gid(patient_id)}, as_user=user)
    assert "errors" not in result, result
    return [n["id"] for n in result["data"]["patient"]["clinicalNotes"]["nodes"]]


async def node(portal: Portal, user: str, note_id: str) -> dict[str, Any]:
    return await portal.gql(ONE, {"id": gid(note_id)}, as_user=user)


# -- the feed and the patient's list ----------------------------------------------------
async def test_a_signed_note_reaches_the_patient_newest_first(feed: Portal) -> None:
    visit = await completed_visit(feed, ALEX_PT)
    older = (NOW - timedelta(days=400)).isoformat()
    await apply(feed, signed("e1", "nte-new", appointmentId=visit, kind="VISIT_NOTE"))
    await apply(feed, signed("e2", "nte-old", signedAt=older, authorName="Dr. Guest"))
    result = await feed.gql(LIST, {"id": patient_gid(ALEX_PT)}, as_user=ALEX)
    notes = result["data"]["patient"]["clinicalNotes"]["nodes"]
    ids = [n["id"] for n in notes]
    assert ids[0] == gid("nte-new")  # newest first, before the demo data's notes
    assert ids.index(gid("nte-old")) > ids.index(gid("nte-new"))
    signed_at = [n["signedAt"] for n in notes]
    assert signed_at == sorted(signed_at, reverse=True)
    first = await node(feed, ALEX, "nte-new")
    note = first["data"]["node"]
    assert note["kind"] == "VISIT_NOTE"
    assert note["text"] == "Text of nte-new."
    assert note["appointment"]["id"] == str(to_global_id("Appointment", visit))
    assert note["status"] == "CURRENT"
    assert note["withheld"] is None
    assert note["pdfUrl"] is None  # only an after-visit summary prints
    other = next(n for n in notes if n["id"] == gid("nte-old"))
    assert other["authorName"] == "Dr. Guest"


async def test_an_amendment_keeps_the_earlier_version_readable(feed: Portal) -> None:
    await apply(feed, signed("e1", "nte-v1"))
    await apply(feed, signed("e2", "nte-v2", amendsNoteId="nte-v1", text="Corrected."))
    ids = await listed(feed, ALEX)
    assert gid("nte-v2") in ids
    assert gid("nte-v1") not in ids
    current = (await node(feed, ALEX, "nte-v2"))["data"]["node"]
    assert current["supersedes"] == {
        "id": gid("nte-v1"),
        "text": "Text of nte-v1.",
        "status": "SUPERSEDED",
    }
    earlier = (await node(feed, ALEX, "nte-v1"))["data"]["node"]
    assert earlier["status"] == "SUPERSEDED"
    assert earlier["supersededBy"] == {"id": gid("nte-v2")}
    # Only the latest version can be amended; nothing is written otherwise.
    again = await send(feed, signed("e3", "nte-v3", amendsNoteId="nte-v1"))
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "data.amendsNoteId"
    assert (await node(feed, ALEX, "nte-v3"))["data"] == {"node": None}


async def test_a_withheld_note_shows_that_it_exists_and_why(feed: Portal) -> None:
    await apply(
        feed,
        signed(
            "e1",
            "nte-held",
            withheldException="PREVENTING_HARM",
            withheldReason="To be discussed at your next visit.",
        ),
    )
    assert gid("nte-held") in await listed(feed, ALEX)
    result = await node(feed, ALEX, "nte-held")
    note = result["data"]["node"]
    assert note["withheld"] == {
        "exception": "PREVENTING_HARM",
        "reason": "To be discussed at your next visit.",
    }
    assert note["text"] is None
    assert errors_of(result) == [("FORBIDDEN", "WITHHELD_BY_PROVIDER")]
    assert result["errors"][0]["path"] == ["node", "text"]


async def test_a_bad_note_event_lists_every_problem_and_writes_nothing(feed: Portal) -> None:
    body = signed("e1", "nte-bad", kind="AFTER_VISIT_SUMMARY", authorProviderId=None)
    body["data"] |= {"sensitiveCategory": "GOSSIP", "withheldReason": "why", "extra": 1}
    response = await send(feed, body)
    assert response.status_code == 422
    fields = sorted(p["field"] for p in response.json()["errors"])
    assert fields == [
        "data.appointmentId",
        "data.authorProviderId",
        "data.extra",
        "data.sensitiveCategory",
        "data.withheldException",
    ]
    unknown = await send(feed, signed("e2", "nte-bad", appointmentId="apt-nope"))
    assert unknown.status_code == 422
    someone_elses = await completed_visit(feed, MARGARET)
    theirs = await send(feed, signed("e3", "nte-bad", appointmentId=someone_elses))
    assert theirs.status_code == 422
    async with feed.services.session() as session:
        assert await session.get(m.ClinicalNote, "nte-bad") is None


# -- after-visit summaries ---------------------------------------------------------------
AVS = """query($id: ID!) { node(id: $id) { ... on Appointment { afterVisitSummary {
  id kind title pdfUrl } } } }"""


async def test_the_after_visit_summary_from_its_appointment_and_as_pdf(feed: Portal) -> None:
    visit = await completed_visit(feed, ALEX_PT)
    await give_alex_two_proxies(feed)
    await apply(
        feed,
        signed("e1", "nte-avs", kind="AFTER_VISIT_SUMMARY", appointmentId=visit, title="AVS"),
    )
    appointment = str(to_global_id("Appointment", visit))
    result = await feed.gql(AVS, {"id": appointment}, as_user=ALEX)
    summary = result["data"]["node"]["afterVisitSummary"]
    assert summary["id"] == gid("nte-avs")
    assert summary["kind"] == "AFTER_VISIT_SUMMARY"
    url = summary["pdfUrl"]
    assert url == f"/notes/{gid('nte-avs')}.pdf"
    for user in (ALEX, JORDAN):  # the patient and a proxy with the notes scope
        pdf = await feed.client.get(
            url, headers={"authorization": f"Bearer {await feed.token(user)}"}
        )
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
    anonymous = await feed.client.get(url)
    assert anonymous.status_code == 401
    # Hidden from proxies: the proxy's PDF and field are refused with the reason.
    hide = await feed.gql(HIDE, {"id": gid("nte-avs"), "hidden": True}, as_user=ALEX)
    assert hide["data"]["setNoteHiddenFromProxies"]["errors"] == []
    refused = await feed.client.get(
        url, headers={"authorization": f"Bearer {await feed.token(JORDAN)}"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["reason"] == "HIDDEN_BY_PATIENT"
    theirs = await feed.gql(AVS, {"id": appointment}, as_user=JORDAN)
    assert theirs["data"]["node"]["afterVisitSummary"] is None
    assert errors_of(theirs) == [("FORBIDDEN", "HIDDEN_BY_PATIENT")]
    other_kind = await feed.client.get(
        f"/notes/{gid('nte-0000001')}.pdf",
        headers={"authorization": f"Bearer {await feed.token(ALEX)}"},
    )
    assert other_kind.status_code == 404  # a visit note is not an after-visit summary


# -- sensitive categories and the patient's privacy controls ----------------------------
CONTEXTS = """{ viewer { patients { patient { id } notesHiddenByPatient
  sensitiveCategories { category allowed reason } } } }"""
OPEN = """mutation($grant: ID!, $category: SensitiveCategory!, $open: Boolean!) {
  setProxyNoteCategory(input: {grantId: $grant, category: $category, open: $open}) {
    grant { openedNoteCategories } errors { code field } } }"""
HIDE = """mutation($id: ID!, $hidden: Boolean!) {
  setNoteHiddenFromProxies(input: {noteId: $id, hidden: $hidden}) {
    note { id hiddenFromProxies } errors { code field } } }"""


async def categories_seen(portal: Portal, user: str, patient_id: str) -> dict[str, Any]:
    result = await portal.gql(CONTEXTS, as_user=user)
    assert "errors" not in result, result
    [context] = [
        c
        for c in result["data"]["viewer"]["patients"]
        if c["patient"]["id"] == patient_gid(patient_id)
    ]
    return {
        "hidden": context["notesHiddenByPatient"],
        **{c["category"]: (c["allowed"], c["reason"]) for c in context["sensitiveCategories"]},
    }


async def test_a_caregiver_with_every_scope_cannot_read_a_behavioral_health_note(
    feed: Portal,
) -> None:
    """Susan holds every scope for her mother Margaret; the demo data gives Margaret a
    behavioral-health note."""
    async with feed.services.session() as session:
        sensitive = await session.scalar(
            select(m.ClinicalNote.id).where(
                m.ClinicalNote.patient_id == MARGARET,
                m.ClinicalNote.sensitive_category == "behavioral_health",
            )
        )
    assert sensitive is not None
    seen = await listed(feed, SUSAN, MARGARET)
    assert seen
    assert gid(sensitive) not in seen
    result = await node(feed, SUSAN, sensitive)
    assert result["data"] == {"node": None}
    assert errors_of(result) == [("FORBIDDEN", "SENSITIVE_CATEGORY")]
    explained = await categories_seen(feed, SUSAN, MARGARET)
    assert explained["BEHAVIORAL_HEALTH"] == (False, "SENSITIVE_CATEGORY")
    # A live note of that category is not delivered to her either; nor announced at all.
    await apply(feed, signed("e1", "nte-bh", MARGARET, sensitiveCategory="BEHAVIORAL_HEALTH"))
    assert gid("nte-bh") not in await listed(feed, SUSAN, MARGARET)
    async with feed.services.session() as session:
        n = m.Notification
        told = await session.scalar(select(func.count()).where(n.object_id == "nte-bh"))
    assert told == 0


async def test_opening_a_category_to_one_proxy_opens_it_for_that_proxy_only(
    feed: Portal,
) -> None:
    await give_alex_two_proxies(feed)
    await apply(feed, signed("e1", "nte-bh", sensitiveCategory="BEHAVIORAL_HEALTH"))
    await apply(feed, signed("e2", "nte-su", sensitiveCategory="SUBSTANCE_USE"))
    for proxy in (JORDAN, SUSAN):
        assert gid("nte-bh") not in await listed(feed, proxy)
    assert {gid("nte-bh"), gid("nte-su")} <= set(await listed(feed, ALEX))

    grant = str(to_global_id("ProxyGrant", "pxg-test-jordan.rivera"))
    variables = {"grant": grant, "category": "BEHAVIORAL_HEALTH", "open": True}
    opened = await feed.gql(OPEN, variables, as_user=ALEX)
    assert opened["data"]["setProxyNoteCategory"] == {
        "grant": {"openedNoteCategories": ["BEHAVIORAL_HEALTH"]},
        "errors": [],
    }
    jordan = await listed(feed, JORDAN)
    assert gid("nte-bh") in jordan
    assert gid("nte-su") not in jordan
    assert gid("nte-bh") not in await listed(feed, SUSAN)
    assert (await node(feed, JORDAN, "nte-bh"))["data"]["node"]["text"] == "Text of nte-bh."
    assert (await categories_seen(feed, JORDAN, ALEX_PT))["BEHAVIORAL_HEALTH"] == (True, None)
    assert (await categories_seen(feed, JORDAN, ALEX_PT))["SUBSTANCE_USE"] == (
        False,
        "SENSITIVE_CATEGORY",
    )
    assert (await categories_seen(feed, SUSAN, ALEX_PT))["BEHAVIORAL_HEALTH"] == (
        False,
        "SENSITIVE_CATEGORY",
    )
    # A proxy cannot open anything, not even for themself: the grant is not one they gave.
    by_proxy = await feed.gql(OPEN, variables | {"category": "SUBSTANCE_USE"}, as_user=JORDAN)
    assert by_proxy["data"]["setProxyNoteCategory"]["errors"] == [
        {"code": "GRANT_NOT_FOUND", "field": "grantId"}
    ]
    by_guardian = await feed.gql(OPEN, variables, as_user="grace.mensah")  # no record of hers
    assert errors_of(by_guardian) == [("FORBIDDEN", "SELF_ONLY")]
    assert gid("nte-su") not in await listed(feed, JORDAN)
    # Closed again: gone from the proxy's next request.
    closed = await feed.gql(OPEN, variables | {"open": False}, as_user=ALEX)
    assert closed["data"]["setProxyNoteCategory"]["grant"]["openedNoteCategories"] == []
    assert gid("nte-bh") not in await listed(feed, JORDAN)
    # Each choice is audited as a write on the patient's record.
    await feed.services.audit.flush()
    log = await feed.gql(
        """query($id: ID!) { patient(id: $id) { accessLog(first: 50) { nodes {
           action objectTypes } } } }""",
        {"id": patient_gid(ALEX_PT)},
        as_user=ALEX,
    )
    entries = log["data"]["patient"]["accessLog"]["nodes"]
    assert sum(e == {"action": "WRITE", "objectTypes": ["NotePrivacy"]} for e in entries) == 2


async def test_a_note_hidden_from_proxies_is_withheld_from_every_one(feed: Portal) -> None:
    await give_alex_two_proxies(feed)
    await apply(feed, signed("e1", "nte-private"))
    for proxy in (JORDAN, SUSAN):
        assert gid("nte-private") in await listed(feed, proxy)
    hidden = await feed.gql(HIDE, {"id": gid("nte-private"), "hidden": True}, as_user=ALEX)
    assert hidden["data"]["setNoteHiddenFromProxies"] == {
        "note": {"id": gid("nte-private"), "hiddenFromProxies": True},
        "errors": [],
    }
    for proxy in (JORDAN, SUSAN):
        assert gid("nte-private") not in await listed(feed, proxy)
        assert errors_of(await node(feed, proxy, "nte-private")) == [
            ("FORBIDDEN", "HIDDEN_BY_PATIENT")
        ]
        assert (await categories_seen(feed, proxy, ALEX_PT))["hidden"] == 1
    assert gid("nte-private") in await listed(feed, ALEX)
    # Its amendment stays hidden, and is not announced to anyone.
    await apply(feed, signed("e2", "nte-private-2", amendsNoteId="nte-private"))
    assert gid("nte-private-2") not in await listed(feed, JORDAN)
    async with feed.services.session() as session:
        n = m.Notification
        told = await session.scalar(select(func.count()).where(n.object_id == "nte-private-2"))
    assert told == 0
    # Typed errors: a note that is not the patient's, a grant that is not theirs.
    theirs = await feed.gql(HIDE, {"id": gid("nte-0000017"), "hidden": True}, as_user=ALEX)
    assert theirs["data"]["setNoteHiddenFromProxies"]["errors"] == [
        {"code": "NOTE_NOT_FOUND", "field": "noteId"}
    ]
    grant = str(to_global_id("ProxyGrant", "pxg-0000009"))  # Margaret's grant to Susan
    variables = {"grant": grant, "category": "BEHAVIORAL_HEALTH", "open": True}
    other = await feed.gql(OPEN, variables, as_user=ALEX)
    assert other["data"]["setProxyNoteCategory"]["errors"] == [
        {"code": "GRANT_NOT_FOUND", "field": "grantId"}
    ]
    # Shown again: back in the proxies' lists.
    await feed.gql(HIDE, {"id": gid("nte-private"), "hidden": False}, as_user=ALEX)
    assert gid("nte-private-2") in await listed(feed, SUSAN)


async def test_notes_are_announced_without_saying_what_they_are(feed: Portal) -> None:
    await give_alex_two_proxies(feed)
    await apply(feed, signed("e1", "nte-told", title="Colonoscopy findings"))
    async with feed.services.session() as session:
        n = m.Notification
        rows = (
            await session.execute(
                select(n.account_id, n.title, n.body).where(n.object_id == "nte-told")
            )
        ).all()
        mail = (await session.scalars(select(m.OutgoingMail.body))).all()
    assert {r.account_id for r in rows} == {ACCOUNT_IDS[u] for u in (ALEX, JORDAN, SUSAN)}
    assert all("Colonoscopy" not in r.title + r.body for r in rows)
    assert mail
    assert all("Colonoscopy" not in body for body in mail)
