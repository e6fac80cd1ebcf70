"""The pure messaging rules, as tables: business days, file types by content, display names,
routing and terms."""

from __future__ import annotations

from datetime import date

import pytest

from domain.attachments import (
    GIF,
    IMAGE_TYPES,
    JPEG,
    PDF,
    PNG,
    TEXT,
    TIFF,
    AttachmentPolicy,
    AttachmentTypeNotAllowed,
    IncomingFile,
    accept_file,
    safe_filename,
    sniff,
)
from domain.messages import (
    Category,
    MessagingPolicy,
    RecipientKind,
    RecipientNotInCareTeam,
    RecipientRequired,
    Route,
    add_business_days,
    route_new_thread,
    route_refill,
    terms,
)
from domain.notification_channels import DEFAULT_CHANNELS, Channel, channels_for, outside_text


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 23), 2, date(2026, 11, 25)),  # Monday -> Wednesday
        (date(2026, 11, 26), 2, date(2026, 11, 30)),  # Thursday -> Monday
        (date(2026, 11, 27), 2, date(2026, 12, 1)),  # Friday -> Tuesday
        (date(2026, 11, 28), 2, date(2026, 12, 1)),  # Saturday -> Tuesday
        (date(2026, 11, 29), 2, date(2026, 12, 1)),  # Sunday -> Tuesday
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday -> Monday
        (date(2026, 11, 23), 5, date(2026, 11, 30)),  # a whole week
        (date(2026, 11, 28), 0, date(2026, 11, 28)),  # no delay: the same day
        (date(2028, 2, 25), 3, date(2028, 3, 1)),  # across a leap day (Friday)
    ],
)
def test_business_days_skip_weekends(start: date, days: int, expected: date) -> None:
    assert add_business_days(start, days) == expected


@pytest.mark.parametrize(
    ("content", "mime"),
    [
        (b"GIF87a....", GIF),
        (b"GIF89a....", GIF),
        (b"\x89PNG\r\n\x1a\n....", PNG),
        (b"II*\x00....", TIFF),
        (b"MM\x00*....", TIFF),
        (b"\xff\xd8\xff\xe0....", JPEG),
        (b"%PDF-1.7\n....", PDF),
        (b"plain words\r\n\tand a tab\x0c", TEXT),
        ("\ufeffwith a BOM, ünïcödé".encode("utf-8-sig"), TEXT),
        (b"", None),
        (b"\xef\xbb\xbf", None),  # only a BOM
        (b"MZ\x90\x00", None),  # a Windows executable
        (b"PK\x03\x04", None),  # zip, docx
        (b"\x7fELF", None),
        (b"text with a \x00 NUL", None),
        (b"escape \x1b[31m sequences", None),
        ("latin-1 café".encode("latin-1"), None),
        (b"  %PDF-1.7 not at the start", TEXT),  # not a pdf; harmless text
        (b"GIF8", TEXT),  # too short for a gif signature: just text
    ],
)
def test_types_are_recognised_by_content(content: bytes, mime: str | None) -> None:
    assert sniff(content) == mime


@pytest.mark.parametrize(
    ("name", "mime", "expected"),
    [
        ("scan.png", PNG, "scan.png"),
        ("../../etc/passwd", TEXT, "passwd.txt"),
        ("C:\\Users\\me\\photo.JPG", JPEG, "photo.JPG"),
        ("photo.jpeg", JPEG, "photo.jpeg"),
        ("invoice.pdf.exe", PDF, "invoice.pdf.exe.pdf"),
        ("evil\u202egpj.exe", JPEG, "evilgpj.exe.jpg"),  # right-to-left override removed
        ("a\r\nb\tc.txt", TEXT, "abc.txt"),
        ("   ", GIF, "attachment.gif"),
        (None, PDF, "attachment.pdf"),
        (".hidden", TEXT, "hidden.txt"),
        ("x" * 300 + ".tiff", TIFF, "x" * 115 + ".tiff"),
    ],
)
def test_display_names_are_safe(name: str | None, mime: str, expected: str) -> None:
    assert safe_filename(name, mime) == expected


def test_an_image_only_upload_refuses_other_types() -> None:
    policy = AttachmentPolicy()
    assert accept_file(IncomingFile("a.png", b"\x89PNG\r\n\x1a\n"), policy, IMAGE_TYPES)
    with pytest.raises(AttachmentTypeNotAllowed):
        accept_file(IncomingFile("a.pdf", b"%PDF-1.4"), policy, IMAGE_TYPES)


POLICY = MessagingPolicy()


def test_routing_a_new_thread() -> None:
    team = {"prv-1", "prv-2"}
    assert route_new_thread(Category.MEDICAL_QUESTION, "prv-2", team, "prv-1", POLICY) == Route(
        RecipientKind.PROVIDER, provider_id="prv-2"
    )
    with pytest.raises(RecipientNotInCareTeam):
        route_new_thread(Category.MEDICAL_QUESTION, "prv-9", team, "prv-1", POLICY)
    assert route_new_thread(Category.BILLING, None, team, "prv-1", POLICY) == Route(
        RecipientKind.POOL, pool="Patient Financial Services"
    )
    assert route_new_thread(Category.MEDICAL_QUESTION, None, team, "prv-1", POLICY).provider_id == (
        "prv-1"
    )
    with pytest.raises(RecipientRequired):
        route_new_thread(Category.MEDICAL_QUESTION, None, set(), None, POLICY)
    assert route_refill("prv-7", "prv-1", POLICY).provider_id == "prv-7"
    assert route_refill(None, "prv-1", POLICY).pool == "Prescription Refills"


def test_terms_follow_configuration() -> None:
    monday = date(2026, 11, 23)
    billed = terms(Category.MEDICAL_QUESTION, RecipientKind.PROVIDER, monday, POLICY)
    assert (billed.billed_as_evisit, billed.reply_by) == (True, date(2026, 11, 25))
    assert billed.estimated_charge_cents is None
    pool = terms(Category.MEDICAL_QUESTION, RecipientKind.POOL, monday, POLICY)
    assert (pool.billed_as_evisit, pool.billing_notice) == (False, None)
    custom = MessagingPolicy(
        evisit_billed=frozenset({(Category.REFILL, RecipientKind.POOL)}),
        evisit_fee_cents=2500,
        reply_business_days_by_category={Category.REFILL: 1},
    )
    refill = terms(Category.REFILL, RecipientKind.POOL, monday, custom)
    assert (refill.billed_as_evisit, refill.estimated_charge_cents) == (True, 2500)
    assert refill.reply_by == date(2026, 11, 24)


def test_channels_and_their_texts() -> None:
    assert channels_for(None) == DEFAULT_CHANNELS
    assert channels_for([]) == frozenset()
    assert channels_for(["SMS", "FAX"]) == {Channel.SMS}
    text = outside_text("RESULT_RELEASED")
    assert "test result" in text.body
    assert "test result" in text.short
    assert "new activity" in outside_text("SOMETHING_NEW").short
