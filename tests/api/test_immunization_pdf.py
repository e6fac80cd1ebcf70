"""GET /patients/{id}/immunizations.pdf: the same token and policy as Patient.immunizations."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from persistence import models as m
from tests.conftest import (
    ACCOUNT_IDS,
    ALEX,
    DANIEL,
    GRACE,
    JORDAN,
    LEO_ACCOUNT,
    NOW,
    SUSAN,
    Portal,
    patient_gid,
)

ALEX_PATIENT, MIA, LEO, MARGARET, ADA = (
    "pat-0000001",
    "pat-0000003",
    "pat-0000004",
    "pat-0000005",
    "pat-0000007",
)


def url(patient_id: str) -> str:
    return f"/patients/{patient_gid(patient_id)}/immunizations.pdf"


async def fetch(portal: Portal, patient_id: str, user: str | None) -> tuple[int, str, bytes]:
    headers = {"authorization": f"Bearer {await portal.token(user)}"} if user else {}
    response = await portal.client.get(url(patient_id), headers=headers)
    return response.status_code, response.headers["content-type"], response.content


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def vaccines_of(portal: Portal, patient_id: str) -> list[m.Immunization]:
    async with portal.services.session() as session:
        stmt = select(m.Immunization).where(m.Immunization.patient_id == patient_id)
        return list((await session.scalars(stmt)).all())


async def test_the_record_prints_every_vaccine_for_who_may_read_them(portal: Portal) -> None:
    # A parent still reads an adolescent's immunizations (an open area by default).
    for user, patient_id in (
        (ALEX, ALEX_PATIENT),
        (ALEX, MIA),
        (ALEX, LEO),
        (LEO_ACCOUNT, LEO),
        (SUSAN, MARGARET),
        (GRACE, ADA),
    ):
        status, content_type, body = await fetch(portal, patient_id, user)
        assert (status, content_type) == (200, "application/pdf"), (user, patient_id)
        assert body.startswith(b"%PDF-")
        text = text_of(body)
        shots = await vaccines_of(portal, patient_id)
        assert shots, f"the demo data gives {patient_id} immunizations"
        for shot in shots:
            assert shot.vaccine in text
            assert shot.administered_on.isoformat() in text
        async with portal.services.session() as session:
            patient = await session.get(m.Patient, patient_id)
        assert patient is not None
        assert f"{patient.given_name} {patient.family_name}" in text
        assert patient.mrn in text
        assert "Printed: 2026-11-22" in text  # NOW, in the health system's zone


RECORD_URL = "query P($id: ID!) { patient(id: $id) { immunizationRecordUrl } }"


async def test_the_schema_gives_the_records_url_to_who_may_print_it(portal: Portal) -> None:
    for user, patient_id in ((ALEX, LEO), (GRACE, ADA)):
        result = await portal.gql(RECORD_URL, {"id": patient_gid(patient_id)}, as_user=user)
        link = result["data"]["patient"]["immunizationRecordUrl"]
        assert link == url(patient_id)
        response = await portal.client.get(
            link, headers={"authorization": f"Bearer {await portal.token(user)}"}
        )
        assert (response.status_code, response.content[:5]) == (200, b"%PDF-")
    # Who may not read the immunizations gets no link, and is told why.
    refused = await portal.gql(RECORD_URL, {"id": patient_gid(ALEX_PATIENT)}, as_user=SUSAN)
    assert refused["data"]["patient"] is None


async def test_refusals_are_json_and_never_a_pdf(portal: Portal) -> None:
    cases = [
        (SUSAN, ALEX_PATIENT, 403, "NOT_A_PATIENT"),
        (LEO_ACCOUNT, MIA, 403, "NOT_A_PATIENT"),
        (JORDAN, ALEX_PATIENT, 403, "GRANT_NOT_ACTIVE"),  # the spouse grant was revoked
        (None, ALEX_PATIENT, 401, None),
    ]
    for user, patient_id, status, reason in cases:
        response = await portal.client.get(
            url(patient_id),
            headers={"authorization": f"Bearer {await portal.token(user)}"} if user else {},
        )
        assert response.status_code == status, (user, patient_id)
        assert response.headers["content-type"] == "application/json"
        assert not response.content.startswith(b"%PDF")
        assert response.json()["error"]["reason"] == reason
    forged = await portal.client.get(
        url(ALEX_PATIENT), headers={"authorization": "Bearer not-a-token"}
    )
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "UNAUTHENTICATED")
    assert forged.headers["www-authenticate"] == "Bearer"
    malformed = await portal.client.get(
        "/patients/nope/immunizations.pdf",
        headers={"authorization": f"Bearer {await portal.token(ALEX)}"},
    )
    assert malformed.status_code == 404


async def test_a_proxy_without_the_health_summary_scope_gets_no_pdf(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    async with portal.services.session() as session:
        session.add(
            m.ProxyGrant(
                id="pxg-test-appointments-only",
                patient_id=MARGARET,
                proxy_account_id=ACCOUNT_IDS[JORDAN],
                relationship="caregiver",
                scopes=["appointments"],
                status="active",
                starts_at=NOW,
                ends_at=None,
            )
        )
        await session.commit()
    response = await portal.client.get(
        url(MARGARET), headers={"authorization": f"Bearer {await portal.token(JORDAN)}"}
    )
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "FORBIDDEN",
        "message": "Your proxy access does not include this part of the record.",
        "reason": "PROXY_SCOPE",
    }
    status, _, _ = await fetch(portal, MARGARET, DANIEL)  # an expired grant
    assert status == 403


async def test_printing_is_audited_like_a_read(fresh_portal: Portal) -> None:
    portal = fresh_portal
    status, _, _ = await fetch(portal, MIA, ALEX)
    assert status == 200
    await fetch(portal, ALEX_PATIENT, SUSAN)  # refused: nothing read, nothing audited
    await portal.services.audit.flush()
    async with portal.services.session() as session:
        rows = list((await session.scalars(select(m.AuditEvent))).all())
    assert [(r.patient_id, r.account_id, r.acting_as, r.action, r.object_types) for r in rows] == [
        (MIA, ACCOUNT_IDS[ALEX], "parent", "read", "Immunization,Patient")
    ]
    assert rows[0].operation == "GET /patients/{id}/immunizations.pdf"
