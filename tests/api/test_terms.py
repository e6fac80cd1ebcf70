"""Versioned terms of use / privacy notice: published with the CLI, required at the next
sign-in, everything but reading and accepting them refused until then, acceptance recorded."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import select

from persistence import models as m
from portal import cli
from tests.conftest import ACCOUNT_IDS, ALEX, DEMO_PASSWORD, JORDAN, Portal, patient_gid

ALEX_PATIENT = "pat-0000001"
SIGN_IN = """
mutation SignIn($input: SignInInput!) {
  signIn(input: $input) {
    accessToken refreshToken
    legalDocumentsToAccept { id kind version title acceptedAt }
    viewer { account { username } }
    errors { code }
  }
}
"""
DOCUMENTS = "query { legalDocuments { id kind version title body acceptedAt } }"
ACCEPT = """
mutation Accept($input: AcceptLegalDocumentsInput!) {
  acceptLegalDocuments(input: $input) { stillToAccept { id } errors { code field } }
}
"""
PATIENT = "query P($id: ID!) { patient(id: $id) { name { display } } }"
PROFILE = """
mutation P($input: UpdateProfileInput!) { updateProfile(input: $input) { errors { code } } }
"""
REFRESH = """
mutation R($input: RefreshSessionInput!) {
  refreshSession(input: $input) { accessToken errors { code } }
}
"""
NOTIFICATIONS = "query { viewer { notifications { nodes { kind title } } } }"


async def publish(portal: Portal, tmp_path: Path, kind: str, title: str) -> None:
    body = tmp_path / f"{kind}-{title}.txt"
    body.write_text(f"{title}\n\nYou agree to use the portal kindly.", encoding="utf-8")
    url = portal.services.settings.database_url
    args = ["--database-url", url, "publish-terms", "--kind", kind, "--title", title]
    assert await asyncio.to_thread(cli.main, [*args, "--body-file", str(body)]) == 0


async def sign_in(portal: Portal, username: str) -> dict[str, Any]:
    variables = {"input": {"username": username, "password": DEMO_PASSWORD}}
    result = await portal.gql(SIGN_IN, variables)
    payload: dict[str, Any] = result["data"]["signIn"]
    assert "errors" not in result, result
    return payload


def codes(result: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]


async def test_new_terms_must_be_accepted_before_anything_else(
    fresh_portal: Portal, tmp_path: Path
) -> None:
    portal = fresh_portal
    # Nothing published: signing in asks nothing.
    assert (await sign_in(portal, ALEX))["legalDocumentsToAccept"] == []
    await publish(portal, tmp_path, "TERMS_OF_USE", "Terms of use 2027")
    await publish(portal, tmp_path, "PRIVACY_NOTICE", "Privacy notice 2027")

    signed = await sign_in(portal, ALEX)
    assert signed["accessToken"]
    assert [
        (d["kind"], d["version"], d["acceptedAt"]) for d in signed["legalDocumentsToAccept"]
    ] == [
        ("PRIVACY_NOTICE", 1, None),
        ("TERMS_OF_USE", 1, None),
    ]
    # The sign-in's own account shows; nothing of any record does.
    assert signed["viewer"] == {"account": {"username": ALEX}}
    token = signed["accessToken"]
    viewer = await portal.gql("query { viewer { patients { relationship } } }", token=token)
    assert codes(viewer) == ["TERMS_ACCEPTANCE_REQUIRED"]

    # Refused: reads, writes, files. Allowed: reading the documents.
    read = await portal.gql(PATIENT, {"id": patient_gid(ALEX_PATIENT)}, token=token)
    assert codes(read) == ["TERMS_ACCEPTANCE_REQUIRED"]
    assert "accept" in read["errors"][0]["message"]
    write = await portal.gql(
        PROFILE,
        {"input": {"patientId": patient_gid(ALEX_PATIENT), "pronouns": "she/her"}},
        token=token,
    )
    assert codes(write) == ["TERMS_ACCEPTANCE_REQUIRED"]
    pdf = await portal.client.get(
        f"/patients/{patient_gid(ALEX_PATIENT)}/immunizations.pdf",
        headers={"authorization": f"Bearer {token}"},
    )
    assert (pdf.status_code, pdf.json()["error"]["code"]) == (403, "TERMS_ACCEPTANCE_REQUIRED")
    docs = (await portal.gql(DOCUMENTS, token=token))["data"]["legalDocuments"]
    assert [d["title"] for d in docs] == ["Privacy notice 2027", "Terms of use 2027"]
    assert "kindly" in docs[0]["body"]

    # Accepting only one, or something not current, leaves the gate closed.
    partial = await portal.gql(ACCEPT, {"input": {"documentIds": [docs[0]["id"]]}}, token=token)
    assert len(partial["data"]["acceptLegalDocuments"]["stillToAccept"]) == 1
    assert codes(await portal.gql(PATIENT, {"id": patient_gid(ALEX_PATIENT)}, token=token)) == [
        "TERMS_ACCEPTANCE_REQUIRED"
    ]
    wrong = await portal.gql(ACCEPT, {"input": {"documentIds": ["bm9wZQ=="]}}, token=token)
    assert [e["code"] for e in wrong["data"]["acceptLegalDocuments"]["errors"]] in (
        ["INVALID_ID"],
        ["NOT_CURRENT"],
    )
    done = await portal.gql(ACCEPT, {"input": {"documentIds": [docs[1]["id"]]}}, token=token)
    assert done["data"]["acceptLegalDocuments"] == {"stillToAccept": [], "errors": []}

    # The same token works at once; acceptance is recorded with version and time.
    ok = await portal.gql(PATIENT, {"id": patient_gid(ALEX_PATIENT)}, token=token)
    assert "errors" not in ok, ok
    async with portal.services.session() as session:
        rows = (
            await session.execute(
                select(m.LegalDocument.kind, m.LegalDocument.version, m.LegalAcceptance.accepted_at)
                .join(m.LegalAcceptance, m.LegalAcceptance.document_id == m.LegalDocument.id)
                .where(m.LegalAcceptance.account_id == ACCOUNT_IDS[ALEX])
                .order_by(m.LegalDocument.kind)
            )
        ).all()
    assert [(k, v) for k, v, _ in rows] == [("PRIVACY_NOTICE", 1), ("TERMS_OF_USE", 1)]
    assert all(at == portal.clock.now() for _, _, at in rows)
    assert (await sign_in(portal, ALEX))["legalDocumentsToAccept"] == []

    # The announcement is in everyone's feed; a new version asks again, that one only.
    feed = await portal.gql(NOTIFICATIONS, as_user=JORDAN)
    titles = [
        n["title"]
        for n in feed["data"]["viewer"]["notifications"]["nodes"]
        if n["kind"] == "TERMS_UPDATED"
    ]
    assert sorted(titles) == ["Updated privacy notice", "Updated terms of use"]
    await publish(portal, tmp_path, "TERMS_OF_USE", "Terms of use 2028")
    again = await sign_in(portal, ALEX)
    assert [(d["kind"], d["version"]) for d in again["legalDocumentsToAccept"]] == [
        ("TERMS_OF_USE", 2)
    ]


async def test_a_refreshed_session_picks_up_new_terms(fresh_portal: Portal, tmp_path: Path) -> None:
    portal = fresh_portal
    signed = await sign_in(portal, ALEX)
    await publish(portal, tmp_path, "TERMS_OF_USE", "Terms of use 2027")
    refreshed = await portal.gql(REFRESH, {"input": {"refreshToken": signed["refreshToken"]}})
    token = refreshed["data"]["refreshSession"]["accessToken"]
    read = await portal.gql(PATIENT, {"id": patient_gid(ALEX_PATIENT)}, token=token)
    assert codes(read) == ["TERMS_ACCEPTANCE_REQUIRED"]
