"""grantProxyAccess, acceptProxyInvitation, revokeProxyAccess and
setResultReleasePreference through real HTTP (and a real SMTP server) on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from domain.results import ReleasePolicy
from persistence import models as m
from schema.base import to_global_id
from tests.api.account_helpers import mailbox_for
from tests.api.test_ehr_feed import TOKEN, applied, event, finalized, result_as
from tests.conftest import (
    ALEX,
    DANIEL,
    GRACE,
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
from tests.mailbox import Mailbox, code_in, deliver

ALEX_PATIENT, LEO, MARGARET = "pat-0000001", "pat-0000004", "pat-0000005"
INVITEE = "daniel.chen@example.org"
CODE = r"\n    (\S+)\n"

GRANT = """
mutation G($input: GrantProxyAccessInput!) {
  grantProxyAccess(input: $input) {
    grant { id status relationship scopes endsAt inviteeEmail proxy { displayName } }
    errors { code message field }
  }
}
"""
ACCEPT = """
mutation A($input: AcceptProxyInvitationInput!) {
  acceptProxyInvitation(input: $input) { patientId errors { code message field } }
}
"""
REVOKE = """
mutation R($input: RevokeProxyAccessInput!) {
  revokeProxyAccess(input: $input) { grant { id status } errors { code message field } }
}
"""
HOLD = """
mutation H($input: SetResultReleasePreferenceInput!) {
  setResultReleasePreference(input: $input) { heldKinds errors { code message field } }
}
"""
CONTEXTS = "query { viewer { patients { relationship scopes patient { id } } } }"
APPOINTMENTS = """
query P($id: ID!) { patient(id: $id) { appointments(first: 1) { nodes { id } } } }
"""
GRANTS = "query G($id: ID!) { patient(id: $id) { proxyGrants { id status inviteeEmail } } }"


@pytest.fixture
async def feed(fresh_db: Database) -> AsyncIterator[Portal]:
    """A fresh database with the EHR feed open (for release preferences)."""
    async for p in _portal(fresh_db, release=ReleasePolicy(), integration_token=TOKEN):
        yield p


@pytest.fixture
async def mailbox(feed: Portal) -> AsyncIterator[Mailbox]:
    for box in mailbox_for(feed):
        yield box


def grant_input(**overrides: Any) -> dict[str, Any]:
    return {
        "input": {
            "patientId": patient_gid(ALEX_PATIENT),
            "inviteeEmail": INVITEE,
            "relationship": "CAREGIVER",
            "scopes": ["RESULTS", "APPOINTMENTS", "RESULTS"],
        }
        | overrides
    }


async def call(portal: Portal, query: str, user: str, variables: Any) -> dict[str, Any]:
    result = await portal.gql(query, variables, as_user=user)
    assert "errors" not in result, result
    payload: dict[str, Any] = next(iter(result["data"].values()))
    return payload


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def counts(portal: Portal) -> tuple[int, ...]:
    found = []
    async with portal.services.session() as session:
        for model in (m.ProxyGrant, m.ProxyInvitation, m.OutgoingMail):
            found.append(int(await session.scalar(select(func.count()).select_from(model)) or 0))
    return tuple(found)


async def invite(portal: Portal, mailbox: Mailbox, **overrides: Any) -> tuple[str, str]:
    """(grant id, invitation code) of a new invitation Alex sends."""
    payload = await call(portal, GRANT, ALEX, grant_input(**overrides))
    assert payload["errors"] == []
    await deliver(portal)
    return payload["grant"]["id"], code_in(mailbox.to(INVITEE)[-1], CODE)


async def contexts(portal: Portal, user: str) -> dict[str, list[str]]:
    result = await portal.gql(CONTEXTS, as_user=user)
    return {c["patient"]["id"]: c["scopes"] for c in result["data"]["viewer"]["patients"]}


async def test_an_invited_caregiver_accepts_and_sees_what_was_granted(
    feed: Portal, mailbox: Mailbox
) -> None:
    payload = await call(feed, GRANT, ALEX, grant_input())
    assert payload["errors"] == []
    grant = payload["grant"]
    assert grant["status"] == "PENDING"
    assert grant["scopes"] == ["APPOINTMENTS", "RESULTS"]
    assert grant["relationship"] == "CAREGIVER"
    assert grant["inviteeEmail"] == INVITEE
    assert grant["proxy"] is None
    assert grant["endsAt"].startswith("2028-05-2")  # 18 months by default
    await deliver(feed)
    [mail] = mailbox.to(INVITEE)
    assert "Alex Rivera" in mail["subject"]
    code = code_in(mail, CODE)
    async with feed.services.session() as session:
        stored = await session.scalar(select(m.ProxyInvitation.token_hash))
    assert stored is not None
    assert code not in stored  # only a hash is kept

    alex = patient_gid(ALEX_PATIENT)
    assert alex not in await contexts(feed, DANIEL)
    accepted = await call(feed, ACCEPT, DANIEL, {"input": {"token": f"  {code} "}})
    assert accepted == {"patientId": alex, "errors": []}
    assert (await contexts(feed, DANIEL))[alex] == ["APPOINTMENTS", "RESULTS"]
    seen = await feed.gql(APPOINTMENTS, {"id": alex}, as_user=DANIEL)
    assert "errors" not in seen
    grants = (await feed.gql(GRANTS, {"id": alex}, as_user=ALEX))["data"]["patient"]
    assert {"id": grant["id"], "status": "ACTIVE", "inviteeEmail": INVITEE} in grants["proxyGrants"]

    # The code works once.
    again = await call(feed, ACCEPT, GRACE, {"input": {"token": code}})
    assert codes(again) == [("INVALID_INVITATION", "token")]
    assert alex not in await contexts(feed, GRACE)


async def test_refused_grants_change_nothing(feed: Portal, mailbox: Mailbox) -> None:
    before = await counts(feed)
    tomorrow_or_past = NOW.date().isoformat()
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"inviteeEmail": "not-an-email"}, "INVALID_EMAIL", "inviteeEmail"),
        ({"relationship": "SELF"}, "INVALID_RELATIONSHIP", "relationship"),
        ({"relationship": "PARENT"}, "INVALID_RELATIONSHIP", "relationship"),
        ({"scopes": []}, "NO_SCOPES", "scopes"),
        ({"endsOn": tomorrow_or_past}, "INVALID_END_DATE", "endsOn"),
    ]
    for overrides, code, field in cases:
        payload = await call(feed, GRANT, ALEX, grant_input(**overrides))
        assert codes(payload) == [(code, field)], overrides
        assert payload["grant"] is None
    # A teen with his own account cannot give proxy access; that is the clinic's.
    leo = await call(feed, GRANT, LEO_ACCOUNT, grant_input(patientId=patient_gid(LEO)))
    assert codes(leo) == [("MINOR_CANNOT_GRANT", None)]
    # A proxy cannot give access to the record it acts for (self only).
    for user, patient in ((SUSAN, MARGARET), (JORDAN, ALEX_PATIENT)):
        result = await feed.gql(GRANT, grant_input(patientId=patient_gid(patient)), as_user=user)
        assert errors_of(result)[0][0] == "FORBIDDEN"
    assert await counts(feed) == before


async def test_an_explicit_end_date_is_kept(feed: Portal, mailbox: Mailbox) -> None:
    ends = (NOW.date() + timedelta(days=30)).isoformat()
    payload = await call(feed, GRANT, ALEX, grant_input(endsOn=ends))
    assert payload["errors"] == []
    assert payload["grant"]["endsAt"][:10] == ends


async def test_invitation_refusals(feed: Portal, mailbox: Mailbox) -> None:
    _, code = await invite(feed, mailbox)
    before = await counts(feed)
    assert codes(await call(feed, ACCEPT, DANIEL, {"input": {"token": "nope"}})) == [
        ("INVALID_INVITATION", "token")
    ]
    assert codes(await call(feed, ACCEPT, DANIEL, {"input": {"token": "  "}})) == [
        ("INVALID_INVITATION", "token")
    ]
    # The patient's own invitation.
    assert codes(await call(feed, ACCEPT, ALEX, {"input": {"token": code}})) == [
        ("OWN_INVITATION", "token")
    ]
    # Someone who already acts for Alex: none in the demo data, so accept once first.
    assert (await call(feed, ACCEPT, DANIEL, {"input": {"token": code}}))["errors"] == []
    _, second = await invite(feed, mailbox, scopes=["BILLING"])
    assert codes(await call(feed, ACCEPT, DANIEL, {"input": {"token": second}})) == [
        ("ALREADY_PROXY", "token")
    ]
    # Expired: the clock passes the invitation's life.
    _, third = await invite(feed, mailbox)
    feed.clock.advance(feed.services.settings.proxies.invitation_ttl + timedelta(seconds=1))
    assert codes(await call(feed, ACCEPT, GRACE, {"input": {"token": third}})) == [
        ("INVITATION_EXPIRED", "token")
    ]
    assert patient_gid(ALEX_PATIENT) not in await contexts(feed, GRACE)
    # Only the one acceptance changed anything (plus the two new invitations and mails).
    after = await counts(feed)
    assert after == (before[0] + 2, before[1] + 2, before[2] + 2)


async def test_a_revoked_grant_stops_at_the_next_request(feed: Portal, mailbox: Mailbox) -> None:
    grant_id, code = await invite(feed, mailbox)
    await call(feed, ACCEPT, DANIEL, {"input": {"token": code}})
    alex = patient_gid(ALEX_PATIENT)
    daniels = await feed.token(DANIEL)  # issued before the revocation, still unexpired after it
    assert "errors" not in await feed.gql(APPOINTMENTS, {"id": alex}, token=daniels)

    # Only the patient revokes: the proxy itself, or anyone else, gets FORBIDDEN.
    for user in (DANIEL, GRACE):
        refused = await feed.gql(REVOKE, {"input": {"grantId": grant_id}}, as_user=user)
        assert errors_of(refused)[0][0] == "FORBIDDEN"
    payload = await call(feed, REVOKE, ALEX, {"input": {"grantId": grant_id}})
    assert payload == {"grant": {"id": grant_id, "status": "REVOKED"}, "errors": []}

    after = await feed.gql(APPOINTMENTS, {"id": alex}, token=daniels)
    assert errors_of(after)[0] == ("FORBIDDEN", "GRANT_NOT_ACTIVE")
    assert after["data"] == {"patient": None}  # nothing of the record
    assert alex not in await contexts(feed, DANIEL)
    again = await call(feed, REVOKE, ALEX, {"input": {"grantId": grant_id}})
    assert codes(again) == [("ALREADY_REVOKED", "grantId")]


async def test_revoking_a_pending_invitation_voids_its_code(feed: Portal, mailbox: Mailbox) -> None:
    grant_id, code = await invite(feed, mailbox)
    assert (await call(feed, REVOKE, ALEX, {"input": {"grantId": grant_id}}))["errors"] == []
    refused = await call(feed, ACCEPT, DANIEL, {"input": {"token": code}})
    assert codes(refused) == [("INVALID_INVITATION", "token")]
    assert patient_gid(ALEX_PATIENT) not in await contexts(feed, DANIEL)


async def test_someone_elses_grant_cannot_be_revoked(feed: Portal) -> None:
    async with feed.services.session() as session:
        susans = await session.scalar(
            select(m.ProxyGrant.id).where(
                m.ProxyGrant.patient_id == MARGARET, m.ProxyGrant.status == "active"
            )
        )
    assert susans is not None
    for grant_id in (to_global_id("ProxyGrant", susans), to_global_id("ProxyGrant", "pxg-0")):
        result = await feed.gql(REVOKE, {"input": {"grantId": grant_id}}, as_user=ALEX)
        assert errors_of(result)[0][0] == "FORBIDDEN"
    async with feed.services.session() as session:
        assert (
            await session.scalar(select(m.ProxyGrant.status).where(m.ProxyGrant.id == susans))
            == "active"
        )


async def test_age_rules_limit_any_grant(feed: Portal) -> None:
    """Whatever a grant names, a parent of a 14-year-old reads none of his results."""
    async with feed.services.session() as session:
        grants = (
            await session.scalars(
                select(m.ProxyGrant).where(
                    m.ProxyGrant.patient_id == LEO, m.ProxyGrant.status == "active"
                )
            )
        ).all()
        for grant in grants:
            grant.scopes = ["appointments", "results", "messages", "billing"]
        await session.commit()
    scopes = (await contexts(feed, ALEX))[patient_gid(LEO)]
    assert "RESULTS" not in scopes
    assert "MESSAGES" not in scopes
    await applied(feed, finalized("evt-teen", "res-teen", LEO))
    refused = await result_as(feed, ALEX, "res-teen")
    assert refused["errors"][0]["extensions"]["reason"] == "ADOLESCENT_CONFIDENTIAL"


async def test_wait_for_my_doctor_holds_results_for_the_patient_and_proxies(
    feed: Portal, mailbox: Mailbox
) -> None:
    alex = patient_gid(ALEX_PATIENT)
    _, code = await invite(feed, mailbox, scopes=["RESULTS"])
    await call(feed, ACCEPT, DANIEL, {"input": {"token": code}})

    # A proxy cannot choose for the patient.
    refused = await feed.gql(
        HOLD,
        {"input": {"patientId": alex, "kind": "LAB", "waitForDoctor": True}},
        as_user=DANIEL,
    )
    assert errors_of(refused)[0][0] == "FORBIDDEN"

    held = await call(
        feed, HOLD, ALEX, {"input": {"patientId": alex, "kind": "LAB", "waitForDoctor": True}}
    )
    assert held == {"heldKinds": ["LAB"], "errors": []}
    twice = await call(
        feed, HOLD, ALEX, {"input": {"patientId": alex, "kind": "LAB", "waitForDoctor": True}}
    )
    assert twice["heldKinds"] == ["LAB"]

    await applied(feed, finalized("evt-held", "res-held", ALEX_PATIENT))
    feed.clock.advance(timedelta(days=30))  # long past any automatic release
    for user in (ALEX, DANIEL):
        node = (await result_as(feed, user, "res-held"))["data"]["node"]
        assert node["releaseStatus"] == "HELD_AT_PATIENT_REQUEST", user
        assert node["components"] is None

    await applied(feed, event("evt-release", "RESULT_RELEASED", {"resultId": "res-held"}))
    for user in (ALEX, DANIEL):
        node = (await result_as(feed, user, "res-held"))["data"]["node"]
        assert node["releaseStatus"] == "RELEASED", user
        assert node["components"]

    # Turning it off: new results follow the usual rules again.
    off = await call(
        feed, HOLD, ALEX, {"input": {"patientId": alex, "kind": "LAB", "waitForDoctor": False}}
    )
    assert off == {"heldKinds": [], "errors": []}
    await applied(feed, finalized("evt-free", "res-free", ALEX_PATIENT))
    feed.clock.advance(timedelta(days=30))
    node = (await result_as(feed, ALEX, "res-free"))["data"]["node"]
    assert node["releaseStatus"] == "RELEASED"
