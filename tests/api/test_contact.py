"""updateContactInfo and confirmEmailChange: self only, validated before anything changes, and
a new email replaces the old one only after the code sent to the new address comes back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from persistence import models as m
from tests.api.account_helpers import account_named, codes, mailbox_for, pending_mail
from tests.conftest import ALEX, JORDAN, Portal, patient_gid
from tests.mailbox import Mailbox, body_of, code_in, deliver

UPDATE = """
mutation U($input: UpdateContactInfoInput!) {
  updateContactInfo(input: $input) {
    patient { email phone address { line1 line2 city state postalCode } }
    pendingEmail
    errors { code message field }
  }
}
"""
CONFIRM = """
mutation C($input: ConfirmEmailChangeInput!) {
  confirmEmailChange(input: $input) { patient { email } errors { code message field } }
}
"""
ADDRESS = {
    "line1": " 12  Elm Street ",
    "line2": None,
    "city": "Cambridge",
    "state": "ma",
    "postalCode": "02139",
}
NEW_EMAIL = "alex.new@example.net"


@pytest.fixture
def mailbox(fresh_portal: Portal) -> Iterator[Mailbox]:
    yield from mailbox_for(fresh_portal)


async def _alex(portal: Portal) -> tuple[str, m.Patient]:
    account = await account_named(portal, ALEX)
    assert account.patient_id is not None
    async with portal.services.sessions() as session:
        patient = await session.get(m.Patient, account.patient_id)
    assert patient is not None
    return account.patient_id, patient


async def update(portal: Portal, as_user: str = ALEX, **fields: Any) -> dict[str, Any]:
    result = await portal.gql(UPDATE, {"input": fields}, as_user=as_user)
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["updateContactInfo"]
    return payload


async def confirm(portal: Portal, patient_id: str, code: str) -> dict[str, Any]:
    variables = {"input": {"patientId": patient_gid(patient_id), "code": code}}
    result = await portal.gql(CONFIRM, variables, as_user=ALEX)
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["confirmEmailChange"]
    return payload


async def test_address_and_phone_change_at_once(fresh_portal: Portal) -> None:
    patient_id, before = await _alex(fresh_portal)
    payload = await update(
        fresh_portal, patientId=patient_gid(patient_id), address=ADDRESS, phone="(617) 555 0199"
    )
    assert payload["errors"] == []
    assert payload["patient"]["phone"] == "617-555-0199"
    assert payload["patient"]["address"] == {
        "line1": "12 Elm Street",
        "line2": None,
        "city": "Cambridge",
        "state": "MA",
        "postalCode": "02139",
    }
    assert payload["patient"]["email"] == before.email
    assert payload["pendingEmail"] is None
    _, after = await _alex(fresh_portal)
    assert after.phone == "617-555-0199"


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"phone": "555-0199"}, "INVALID_PHONE", "phone"),
        ({"phone": "017-555-0199"}, "INVALID_PHONE", "phone"),
        ({"email": "not an email"}, "INVALID_EMAIL", "email"),
        ({"address": {**ADDRESS, "state": "ZZ"}}, "INVALID_ADDRESS", "address.state"),
        ({"address": {**ADDRESS, "postalCode": "2139"}}, "INVALID_ADDRESS", "address.postalCode"),
        ({"address": {**ADDRESS, "line1": "  "}}, "INVALID_ADDRESS", "address.line1"),
        ({}, "NOTHING_TO_CHANGE", None),
        ({"phone": "617-555-0199", "email": "bad@"}, "INVALID_EMAIL", "email"),
    ],
)
async def test_bad_input_changes_nothing(
    fresh_portal: Portal, fields: dict[str, Any], code: str, field: str | None
) -> None:
    patient_id, before = await _alex(fresh_portal)
    payload = await update(fresh_portal, patientId=patient_gid(patient_id), **fields)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert payload["patient"] is None
    _, after = await _alex(fresh_portal)
    assert (after.phone, after.address, after.email) == (before.phone, before.address, before.email)
    assert await pending_mail(fresh_portal) == 0


async def test_every_invalid_field_is_reported_at_once(fresh_portal: Portal) -> None:
    patient_id, before = await _alex(fresh_portal)
    address = {**ADDRESS, "line1": " ", "state": "ZZ", "postalCode": "2139"}
    payload = await update(
        fresh_portal,
        patientId=patient_gid(patient_id),
        address=address,
        phone="555-0199",
        email="bad@",
    )
    assert sorted((e["code"], e["field"]) for e in payload["errors"]) == [
        ("INVALID_ADDRESS", "address.line1"),
        ("INVALID_ADDRESS", "address.postalCode"),
        ("INVALID_ADDRESS", "address.state"),
        ("INVALID_EMAIL", "email"),
        ("INVALID_PHONE", "phone"),
    ]
    assert all(e["message"] for e in payload["errors"])
    assert payload["patient"] is None
    _, after = await _alex(fresh_portal)
    assert (after.phone, after.address, after.email) == (before.phone, before.address, before.email)
    assert await pending_mail(fresh_portal) == 0


async def test_a_bad_patient_id_is_a_typed_error(fresh_portal: Portal) -> None:
    payload = await update(fresh_portal, patientId="%%%", phone="617-555-0199")
    assert codes(payload) == ["INVALID_ID"]


async def test_a_proxy_cannot_change_a_patients_contact_details(fresh_portal: Portal) -> None:
    # Jordan is a parent of Alex's children but not Alex: and even a parent is a proxy.
    patient_id, before = await _alex(fresh_portal)
    for as_user in (JORDAN,):
        result = await fresh_portal.gql(
            UPDATE,
            {"input": {"patientId": patient_gid(patient_id), "phone": "617-555-0199"}},
            as_user=as_user,
        )
        assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    _, after = await _alex(fresh_portal)
    assert after.phone == before.phone


async def test_a_parent_cannot_change_a_childs_contact_details(fresh_portal: Portal) -> None:
    result = await fresh_portal.gql(
        "query { viewer { patients { relationship patient { id } } } }", as_user=ALEX
    )
    children = [
        p["patient"]["id"]
        for p in result["data"]["viewer"]["patients"]
        if p["relationship"] != "SELF"
    ]
    assert children
    result = await fresh_portal.gql(
        UPDATE, {"input": {"patientId": children[0], "phone": "617-555-0199"}}, as_user=ALEX
    )
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert result["errors"][0]["extensions"]["reason"] == "SELF_ONLY"


async def test_a_new_email_is_confirmed_by_a_code_sent_to_it(
    fresh_portal: Portal, mailbox: Mailbox
) -> None:
    patient_id, before = await _alex(fresh_portal)
    payload = await update(fresh_portal, patientId=patient_gid(patient_id), email=NEW_EMAIL)
    assert payload["errors"] == []
    assert payload["pendingEmail"] == NEW_EMAIL
    assert payload["patient"]["email"] == before.email  # not yet
    await deliver(fresh_portal)
    [mail] = mailbox.received  # to the NEW address only
    assert mail["To"] == NEW_EMAIL

    confirmed = await confirm(fresh_portal, patient_id, code_in(mail))
    assert confirmed == {"patient": {"email": NEW_EMAIL}, "errors": []}
    assert (await account_named(fresh_portal, ALEX)).email == NEW_EMAIL
    # The old address is told; reset mail now goes to the new one.
    await deliver(fresh_portal)
    [notice] = mailbox.to(str(before.email))
    assert NEW_EMAIL in body_of(notice)
    again = await confirm(fresh_portal, patient_id, code_in(mail))
    assert codes(again) == ["NO_CHANGE_PENDING"]


async def test_email_change_refusals_change_nothing(fresh_portal: Portal, mailbox: Mailbox) -> None:
    patient_id, before = await _alex(fresh_portal)
    assert codes(await confirm(fresh_portal, patient_id, "12345678")) == ["NO_CHANGE_PENDING"]
    await update(fresh_portal, patientId=patient_gid(patient_id), email=NEW_EMAIL)
    await deliver(fresh_portal)
    code = code_in(mailbox.received[0])
    for _ in range(5):
        assert codes(await confirm(fresh_portal, patient_id, "00000000")) == ["INVALID_CODE"]
    assert codes(await confirm(fresh_portal, patient_id, code)) == ["TOO_MANY_ATTEMPTS"]
    _, after = await _alex(fresh_portal)
    assert after.email == before.email

    # A new request starts over; its code expires after 30 minutes.
    await update(fresh_portal, patientId=patient_gid(patient_id), email="alex.2@example.net")
    await deliver(fresh_portal)
    fresh_portal.clock.advance(timedelta(minutes=30))
    code = code_in(mailbox.to("alex.2@example.net")[0])
    assert codes(await confirm(fresh_portal, patient_id, code)) == ["CODE_EXPIRED"]
    _, after = await _alex(fresh_portal)
    assert after.email == before.email


async def test_an_address_another_account_uses_is_refused_at_confirmation(
    fresh_portal: Portal, mailbox: Mailbox
) -> None:
    patient_id, before = await _alex(fresh_portal)
    jordan = await account_named(fresh_portal, JORDAN)
    await update(fresh_portal, patientId=patient_gid(patient_id), email=jordan.email)
    await deliver(fresh_portal)
    code = code_in(mailbox.to(jordan.email)[0])
    assert codes(await confirm(fresh_portal, patient_id, code)) == ["EMAIL_IN_USE"]
    _, after = await _alex(fresh_portal)
    assert after.email == before.email


async def test_the_same_email_again_is_no_change(fresh_portal: Portal) -> None:
    patient_id, before = await _alex(fresh_portal)
    assert before.email is not None
    payload = await update(
        fresh_portal, patientId=patient_gid(patient_id), email=before.email.upper()
    )
    assert payload["errors"] == []
    assert payload["pendingEmail"] is None
    assert await pending_mail(fresh_portal) == 0
