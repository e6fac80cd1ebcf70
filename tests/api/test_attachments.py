"""Attachments through real GraphQL multipart requests: accepted by content only, stored
outside the database under the configured directory, served back only to readers of the
thread; a refused upload leaves neither rows nor files behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from domain.attachments import MB, AttachmentPolicy
from domain.messages import MessagingPolicy
from persistence import models as m
from schema.base import to_global_id
from tests.api.test_messaging import ALEX_PATIENT, LEO, MIA, new_thread
from tests.api.uploads import (
    EXE,
    GIF,
    JPEG,
    LATIN1,
    PDF,
    PNG,
    TEXT,
    TEXT_WITH_NUL,
    TIFF,
    ZIP,
    Upload,
    attachments_of,
    gql_multipart,
)
from tests.conftest import (
    ALEX,
    JORDAN,
    LEO_ACCOUNT,
    NOW,
    SUSAN,
    Database,
    Portal,
    _portal,
    errors_of,
)

SEND = """
mutation Send($input: SendMessageInput!) {
  sendMessage(input: $input) {
    message { id attachments { id filename contentType size url } }
    errors { code message field }
  }
}
"""

NODE = """
query Node($id: ID!) { node(id: $id) { id ... on Attachment { filename contentType size } } }
"""

THREAD_ATTACHMENTS = """
query Thread($id: ID!) {
  node(id: $id) { ... on Message { attachments { id filename } } }
}
"""


@pytest.fixture
async def portal(fresh_db: Database, tmp_path: Path) -> AsyncIterator[Portal]:
    async for p in _portal(fresh_db, attachments_dir=str(tmp_path / "attachments")):
        yield p


@pytest.fixture
async def small_portal(fresh_db: Database, tmp_path: Path) -> AsyncIterator[Portal]:
    """Attachments limited to 2 files of 1 KB each."""
    policy = MessagingPolicy(attachments=AttachmentPolicy(max_count=2, max_bytes=1024))
    async for p in _portal(
        fresh_db, attachments_dir=str(tmp_path / "attachments"), messaging=policy
    ):
        yield p


async def send_with(
    portal: Portal, who: str, patient_id: str, *uploads: Upload, **fields: Any
) -> dict[str, Any]:
    variable, files = attachments_of(*uploads)
    message = new_thread(patient_id, recipientProviderId=None, attachments=variable, **fields)
    return await gql_multipart(portal, SEND, {"input": message}, files, as_user=who)


def stored_files(portal: Portal) -> list[Path]:
    root = Path(portal.services.settings.attachments_dir)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def rows(portal: Portal) -> tuple[int, int]:
    async with portal.services.session() as session:
        messages = await session.scalar(select(func.count()).select_from(m.Message))
        attachments = await session.scalar(select(func.count()).select_from(m.Attachment))
    return int(messages or 0), int(attachments or 0)


async def download(portal: Portal, url: str, who: str | None) -> Any:
    headers = {"authorization": f"Bearer {await portal.token(who)}"} if who else {}
    return await portal.client.get(url, headers=headers)


# -- accepted, stored, served -----------------------------------------------------------------
async def test_every_accepted_type_is_stored_outside_the_database_and_served_back(
    portal: Portal,
) -> None:
    uploads: list[Upload] = [
        ("../../etc/scan.png", PNG, "image/png"),
        ("photo.JPEG", JPEG, "image/jpeg"),
        ("animation.gif", GIF, "application/octet-stream"),  # the client's type is ignored
        ("fax", TIFF, "image/tiff"),  # no extension: the type's is added
        ("report.exe", PDF, "application/x-msdownload"),  # the name lies: it is a pdf
    ]
    result = await send_with(portal, ALEX, ALEX_PATIENT, *uploads)
    payload = result["data"]["sendMessage"]
    assert payload["errors"] == []
    attachments = payload["message"]["attachments"]
    assert [(a["filename"], a["contentType"], a["size"]) for a in attachments] == [
        ("scan.png", "image/png", len(PNG)),
        ("photo.JPEG", "image/jpeg", len(JPEG)),
        ("animation.gif", "image/gif", len(GIF)),
        ("fax.tif", "image/tiff", len(TIFF)),
        ("report.exe.pdf", "application/pdf", len(PDF)),
    ]
    # Stored under the configured directory by random names, none of them the client's.
    files = stored_files(portal)
    assert len(files) == 5
    assert sorted(f.read_bytes() for f in files) == sorted(u[1] for u in uploads)
    assert not {f.name for f in files} & {"scan.png", "photo.JPEG", "fax", "report.exe"}

    for attachment, (_name, content, _type) in zip(attachments, uploads, strict=True):
        response = await download(portal, attachment["url"], ALEX)
        assert response.status_code == 200
        assert response.content == content
        assert response.headers["content-type"] == attachment["contentType"]
        assert response.headers["content-disposition"].startswith("attachment;")
        assert attachment["filename"] in response.headers["content-disposition"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "private, no-store"


async def test_plain_text_is_utf8_without_control_characters(portal: Portal) -> None:
    result = await send_with(portal, ALEX, ALEX_PATIENT, ("log.txt", TEXT, "text/plain"))
    [attachment] = result["data"]["sendMessage"]["message"]["attachments"]
    assert (attachment["filename"], attachment["contentType"]) == ("log.txt", "text/plain")
    response = await download(portal, attachment["url"], ALEX)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == TEXT


# -- refused uploads -----------------------------------------------------------------------------
REFUSED = [
    pytest.param([("setup.png", EXE, "image/png")], "ATTACHMENT_TYPE_NOT_ALLOWED", id="exe"),
    pytest.param([("a.zip", ZIP, "application/zip")], "ATTACHMENT_TYPE_NOT_ALLOWED", id="zip"),
    pytest.param([("a.txt", TEXT_WITH_NUL, "text/plain")], "ATTACHMENT_TYPE_NOT_ALLOWED", id="nul"),
    pytest.param([("a.txt", LATIN1, "text/plain")], "ATTACHMENT_TYPE_NOT_ALLOWED", id="latin1"),
    pytest.param([("empty.txt", b"", "text/plain")], "ATTACHMENT_TYPE_NOT_ALLOWED", id="empty"),
    pytest.param(
        [("ok.png", PNG, "image/png"), ("tool.pdf", EXE, "application/pdf")],
        "ATTACHMENT_TYPE_NOT_ALLOWED",
        id="second-of-two",
    ),
    pytest.param([("a.png", PNG, "image/png")] * 6, "TOO_MANY_ATTACHMENTS", id="six"),
]


@pytest.mark.parametrize(("uploads", "code"), REFUSED)
async def test_refused_uploads_leave_nothing_behind(
    portal: Portal, uploads: list[Upload], code: str
) -> None:
    before = await rows(portal)
    result = await send_with(portal, ALEX, ALEX_PATIENT, *uploads)
    payload = result["data"]["sendMessage"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, "attachments")]
    assert payload["message"] is None
    assert await rows(portal) == before
    assert stored_files(portal) == []


async def test_size_and_count_limits_are_configuration(small_portal: Portal) -> None:
    portal = small_portal
    just_right = ("ok.txt", b"a" * 1024, "text/plain")
    too_large = ("big.txt", b"a" * 1025, "text/plain")
    before = await rows(portal)
    for uploads, code in [
        ([too_large], "ATTACHMENT_TOO_LARGE"),
        ([just_right] * 3, "TOO_MANY_ATTACHMENTS"),
    ]:
        result = await send_with(portal, ALEX, ALEX_PATIENT, *uploads)
        errors = result["data"]["sendMessage"]["errors"]
        assert [e["code"] for e in errors] == [code]
        assert await rows(portal) == before
        assert stored_files(portal) == []
    assert "1 MB" not in errors[0]["message"]
    ok = await send_with(portal, ALEX, ALEX_PATIENT, just_right, just_right)
    assert ok["data"]["sendMessage"]["errors"] == []
    assert len(stored_files(portal)) == 2


async def test_the_default_limit_is_ten_megabytes_a_file(portal: Portal) -> None:
    assert portal.services.settings.messaging.attachments == AttachmentPolicy()  # defaults
    before = await rows(portal)
    over = ("over.pdf", PDF + b"\n" * (10 * MB + 1 - len(PDF)), "application/pdf")
    result = await send_with(portal, ALEX, ALEX_PATIENT, over)
    payload = result["data"]["sendMessage"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("ATTACHMENT_TOO_LARGE", "attachments")
    ]
    assert "10 MB" in payload["errors"][0]["message"]
    assert payload["message"] is None
    assert await rows(portal) == before
    assert stored_files(portal) == []

    exactly = ("exactly.pdf", over[1][: 10 * MB], "application/pdf")
    result = await send_with(portal, ALEX, ALEX_PATIENT, exactly)
    payload = result["data"]["sendMessage"]
    assert payload["errors"] == []
    assert [a["size"] for a in payload["message"]["attachments"]] == [10 * MB]
    [stored] = stored_files(portal)
    assert stored.stat().st_size == 10 * MB


async def test_a_message_refused_for_another_reason_keeps_no_file(portal: Portal) -> None:
    before = await rows(portal)
    png = ("scan.png", PNG, "image/png")
    refusals: list[tuple[dict[str, Any], str]] = [
        (
            {"acknowledgeEVisitBilling": False, "recipientProviderId": None},
            "EVISIT_NOT_ACKNOWLEDGED",
        ),
        ({"body": "  "}, "BODY_EMPTY"),
    ]
    for fields, code in refusals:
        variable, files = attachments_of(png)
        message = {**new_thread(ALEX_PATIENT, attachments=variable), **fields}
        result = await gql_multipart(portal, SEND, {"input": message}, files, as_user=ALEX)
        assert [e["code"] for e in result["data"]["sendMessage"]["errors"]] == [code]
    assert await rows(portal) == before
    assert stored_files(portal) == []


async def test_attachments_sent_without_multipart_are_bad_input(portal: Portal) -> None:
    before = await rows(portal)
    message = new_thread(ALEX_PATIENT, attachments=["not a file"])
    result = await portal.gql(SEND, {"input": message}, as_user=ALEX)
    assert errors_of(result) == [("BAD_USER_INPUT", None)]
    assert await rows(portal) == before
    assert stored_files(portal) == []


# -- who may read them -----------------------------------------------------------------------------
async def test_only_readers_of_the_thread_get_the_file(portal: Portal) -> None:
    # Leo (14) writes with an attachment; his parents may not read his messages.
    result = await send_with(portal, LEO_ACCOUNT, LEO, ("rash.jpg", JPEG, "image/jpeg"))
    message = result["data"]["sendMessage"]["message"]
    [attachment] = message["attachments"]
    url = attachment["url"]

    assert (await download(portal, url, LEO_ACCOUNT)).content == JPEG
    for parent in (ALEX, JORDAN):
        response = await download(portal, url, parent)
        assert response.status_code == 403
        assert response.json()["error"]["reason"] == "ADOLESCENT_CONFIDENTIAL"
        assert response.content != JPEG
    stranger = await download(portal, url, SUSAN)
    assert (stranger.status_code, stranger.json()["error"]["reason"]) == (403, "NOT_A_PATIENT")
    signed_out = await download(portal, url, None)
    assert signed_out.status_code == 401
    assert signed_out.headers["www-authenticate"] == "Bearer"
    forged = await portal.client.get(url, headers={"authorization": "Bearer forged"})
    assert forged.status_code == 401
    unknown = f"/attachments/{to_global_id('Attachment', 'att-unknown')}"
    assert (await download(portal, unknown, LEO_ACCOUNT)).status_code == 403
    assert (await download(portal, "/attachments/not-an-id", LEO_ACCOUNT)).status_code == 404

    # The same rule through GraphQL: node(id) and the message's attachments.
    assert (await portal.gql(NODE, {"id": attachment["id"]}, as_user=LEO_ACCOUNT))["data"]["node"][
        "filename"
    ] == "rash.jpg"
    refused = await portal.gql(NODE, {"id": attachment["id"]}, as_user=ALEX)
    assert errors_of(refused) == [("FORBIDDEN", "ADOLESCENT_CONFIDENTIAL")]
    refused = await portal.gql(THREAD_ATTACHMENTS, {"id": message["id"]}, as_user=ALEX)
    assert errors_of(refused) == [("FORBIDDEN", "ADOLESCENT_CONFIDENTIAL")]


async def test_both_parents_of_a_child_read_the_file_a_parent_sent(portal: Portal) -> None:
    result = await send_with(portal, ALEX, MIA, ("note.pdf", PDF, "application/pdf"))
    message = result["data"]["sendMessage"]["message"]
    url = message["attachments"][0]["url"]
    for parent in (ALEX, JORDAN):
        assert (await download(portal, url, parent)).content == PDF
    seen = await portal.gql(THREAD_ATTACHMENTS, {"id": message["id"]}, as_user=JORDAN)
    assert seen["data"]["node"]["attachments"] == [
        {"id": message["attachments"][0]["id"], "filename": "note.pdf"}
    ]


# -- checkIn's insurance card ----------------------------------------------------------------------
CHECK_IN = """
mutation CheckIn($input: CheckInInput!) {
  checkIn(input: $input) {
    appointment { id status }
    insuranceCard { id filename contentType size url }
    errors { code field }
  }
}
"""


async def _appointment_in_two_days(portal: Portal) -> str:
    async with portal.services.session() as session, session.begin():
        session.add(
            m.Appointment(
                id="apt-card-test",
                patient_id=ALEX_PATIENT,
                provider_id="prv-00002",
                department_id="dep-001",
                visit_type="Follow-Up",
                reason=None,
                starts_at=NOW + timedelta(days=2),
                duration_minutes=20,
                status="scheduled",
                telehealth=False,
                questionnaire_complete=False,
            )
        )
    return str(to_global_id("Appointment", "apt-card-test"))


async def check_in(portal: Portal, appointment: str, card: Upload) -> dict[str, Any]:
    variables = {
        "input": {
            "appointmentId": appointment,
            "contactConfirmed": True,
            "insuranceConfirmed": True,
            "insuranceCard": None,
        }
    }
    files = {"input.insuranceCard": card}
    result = await gql_multipart(portal, CHECK_IN, variables, files, as_user=ALEX)
    payload: dict[str, Any] = result["data"]["checkIn"]
    return payload


async def test_check_in_takes_an_insurance_card_image_only(portal: Portal) -> None:
    appointment = await _appointment_in_two_days(portal)
    before = await rows(portal)
    for card in [("card.pdf", PDF, "application/pdf"), ("card.txt", TEXT, "text/plain")]:
        payload = await check_in(portal, appointment, card)
        assert payload["errors"] == [
            {"code": "ATTACHMENT_TYPE_NOT_ALLOWED", "field": "insuranceCard"}
        ]
        assert payload["appointment"] is None
        assert await rows(portal) == before
        assert stored_files(portal) == []
    async with portal.services.session() as session:
        row = await session.get(m.Appointment, "apt-card-test")
        assert row is not None
        assert row.status == "scheduled"

    payload = await check_in(portal, appointment, ("front.jpg", JPEG, "image/jpeg"))
    assert payload["errors"] == []
    assert payload["appointment"]["status"] == "CHECKED_IN"
    card = payload["insuranceCard"]
    assert (card["filename"], card["contentType"], card["size"]) == (
        "front.jpg",
        "image/jpeg",
        len(JPEG),
    )
    assert (await download(portal, card["url"], ALEX)).content == JPEG
    assert (await download(portal, card["url"], JORDAN)).status_code == 403
    async with portal.services.session() as session:
        [stored] = (await session.scalars(select(m.Attachment))).all()
    assert (stored.purpose, stored.appointment_id, stored.message_id) == (
        "insurance_card",
        "apt-card-test",
        None,
    )
    # A card sent with a check-in that is refused for another reason is not kept.
    again = await check_in(portal, appointment, ("back.png", PNG, "image/png"))
    assert [e["code"] for e in again["errors"]] == ["ALREADY_CHECKED_IN"]
    assert len(stored_files(portal)) == 1
