"""Creating an account: activateAccount (code from the clinic) and signUpWithoutCode +
verifySignUp (identity proved by the email on file). Real HTTP, a real SMTP server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from persistence import models as m
from tests.api.account_helpers import (
    NEW_PASSWORD,
    Person,
    account_of,
    activate,
    activation_code,
    codes,
    count,
    mailbox_for,
    pending_mail,
    people_without_account,
    sign_in,
)
from tests.conftest import ALEX, DEMO_PASSWORD, Portal
from tests.mailbox import Mailbox, body_of, code_in, deliver

SIGN_UP = """
mutation SignUp($input: SignUpWithoutCodeInput!) {
  signUpWithoutCode(input: $input) { verificationId message errors { code message field } }
}
"""
VERIFY = """
mutation Verify($input: VerifySignUpInput!) {
  verifySignUp(input: $input) {
    accessToken refreshToken viewer { account { username email } }
    errors { code message field }
  }
}
"""


@pytest.fixture
def mailbox(fresh_portal: Portal) -> Iterator[Mailbox]:
    yield from mailbox_for(fresh_portal)


def _activation(person: Person, code: str, **overrides: Any) -> dict[str, Any]:
    return {
        "activationCode": code,
        "birthDate": person.birth_date.isoformat(),
        "username": "new.patient",
        "password": NEW_PASSWORD,
        **overrides,
    }


# -- activateAccount ----------------------------------------------------------------------------
async def test_activation_creates_the_account_and_signs_in(
    fresh_portal: Portal, mailbox: Mailbox
) -> None:
    [person] = await people_without_account(fresh_portal)
    code = await activation_code(fresh_portal, person.id)
    # People type codes in any case, with spaces for dashes.
    typed = code.lower().replace("-", " ")
    payload = await activate(fresh_portal, **_activation(person, typed, username="New.Patient"))
    assert payload["errors"] == []
    assert payload["accessToken"]
    assert payload["refreshToken"]
    viewer = payload["viewer"]
    assert viewer["account"] == {"username": "new.patient", "email": person.email}
    assert [p["relationship"] for p in viewer["patients"]] == ["SELF"]
    # The new password works for signIn; the account is the patient's.
    assert (await sign_in(fresh_portal, "new.patient", NEW_PASSWORD))["errors"] == []
    account = await account_of(fresh_portal, person.id)
    assert account is not None
    assert account.email == person.email
    # A welcome mail went to the email on file.
    await deliver(fresh_portal)
    [mail] = mailbox.to(person.email)
    assert "new.patient" in body_of(mail)


async def test_an_activation_code_works_once(fresh_portal: Portal) -> None:
    first, second = await people_without_account(fresh_portal, 2)
    code = await activation_code(fresh_portal, first.id)
    # Bound to its patient: someone else's birth date does not fit it.
    if second.birth_date != first.birth_date:
        assert codes(await activate(fresh_portal, **_activation(second, code))) == ["INVALID_CODE"]
    assert (await activate(fresh_portal, **_activation(first, code)))["errors"] == []
    again = await activate(fresh_portal, **_activation(first, code, username="someone.else"))
    assert codes(again) == ["CODE_USED"]
    assert again["accessToken"] is None
    assert await count(fresh_portal, m.Account, m.Account.username == "someone.else") == 0
    for_second = await activate(
        fresh_portal,
        **_activation(second, code, username="second.person"),
    )
    assert codes(for_second) == ["CODE_USED"]
    assert await account_of(fresh_portal, second.id) is None


async def test_an_expired_code_is_refused(fresh_portal: Portal) -> None:
    [person] = await people_without_account(fresh_portal)
    code = await activation_code(fresh_portal, person.id)  # 90 days by default
    fresh_portal.clock.advance(timedelta(days=90))
    payload = await activate(fresh_portal, **_activation(person, code))
    assert codes(payload) == ["CODE_EXPIRED"]
    assert await account_of(fresh_portal, person.id) is None


async def test_a_code_one_second_before_expiry_works(fresh_portal: Portal) -> None:
    [person] = await people_without_account(fresh_portal)
    code = await activation_code(fresh_portal, person.id)
    fresh_portal.clock.advance(timedelta(days=90) - timedelta(seconds=1))
    assert (await activate(fresh_portal, **_activation(person, code)))["errors"] == []


async def test_a_wrong_birth_date_is_refused_and_five_kill_the_code(fresh_portal: Portal) -> None:
    [person] = await people_without_account(fresh_portal)
    code = await activation_code(fresh_portal, person.id)
    wrong = (person.birth_date + timedelta(days=1)).isoformat()
    unknown = await activate(fresh_portal, **_activation(person, "ZZZZ-ZZZZ-ZZZZ"))
    assert codes(unknown) == ["INVALID_CODE"]
    for _ in range(5):
        payload = await activate(fresh_portal, **_activation(person, code, birthDate=wrong))
        assert codes(payload) == ["INVALID_CODE"]
        assert payload["errors"][0]["field"] == "birthDate"
    # Even the right birth date is too late now.
    dead = await activate(fresh_portal, **_activation(person, code))
    assert codes(dead) == ["TOO_MANY_ATTEMPTS"]
    assert await account_of(fresh_portal, person.id) is None


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"username": "x"}, "INVALID_USERNAME", "username"),
        ({"username": "has space"}, "INVALID_USERNAME", "username"),
        ({"password": "short-2026"}, "WEAK_PASSWORD", "password"),
        ({"password": "Password12345"}, "WEAK_PASSWORD", "password"),
        ({"password": "new.patient-2026"}, "WEAK_PASSWORD", "password"),
        ({"username": ALEX}, "USERNAME_TAKEN", "username"),
    ],
)
async def test_bad_usernames_and_passwords_change_nothing(
    fresh_portal: Portal, overrides: dict[str, str], code: str, field: str
) -> None:
    [person] = await people_without_account(fresh_portal)
    activation = await activation_code(fresh_portal, person.id)
    payload = await activate(fresh_portal, **_activation(person, activation, **overrides))
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert await account_of(fresh_portal, person.id) is None
    # The code was not used up: it still works.
    assert (await activate(fresh_portal, **_activation(person, activation)))["errors"] == []


async def test_a_patient_with_an_account_cannot_activate_another(fresh_portal: Portal) -> None:
    [person] = await people_without_account(fresh_portal)
    first = await activation_code(fresh_portal, person.id)
    second = await activation_code(fresh_portal, person.id)
    assert (await activate(fresh_portal, **_activation(person, first)))["errors"] == []
    payload = await activate(fresh_portal, **_activation(person, second, username="another.one"))
    assert codes(payload) == ["ALREADY_HAS_ACCOUNT"]
    assert await count(fresh_portal, m.Account, m.Account.patient_id == person.id) == 1


async def test_concurrent_activations_with_one_code_create_one_account(
    fresh_portal: Portal,
) -> None:
    if fresh_portal.services.engine.dialect.name == "sqlite":
        pytest.skip("concurrency proof: PostgreSQL only (SQLite serializes writers)")
    [person] = await people_without_account(fresh_portal)
    code = await activation_code(fresh_portal, person.id)
    results = await asyncio.gather(
        *(
            activate(fresh_portal, **_activation(person, code, username=f"racer.{i}"))
            for i in range(8)
        )
    )
    assert sum(1 for r in results if r["errors"] == []) == 1
    assert await count(fresh_portal, m.Account, m.Account.patient_id == person.id) == 1


# -- signUpWithoutCode + verifySignUp ---------------------------------------------------------
def _identity(person: Person, **overrides: Any) -> dict[str, Any]:
    return {
        "givenName": person.given_name,
        "familyName": person.family_name,
        "birthDate": person.birth_date.isoformat(),
        "mrn": person.mrn,
        **overrides,
    }


async def _sign_up(portal: Portal, identity: dict[str, Any]) -> dict[str, Any]:
    result = await portal.gql(SIGN_UP, {"input": identity})
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["signUpWithoutCode"]
    return payload


async def _verify(portal: Portal, verification_id: str, code: str, **more: Any) -> dict[str, Any]:
    fields = {"username": "new.patient", "password": NEW_PASSWORD, **more}
    variables = {"input": {"verificationId": verification_id, "code": code, **fields}}
    result = await portal.gql(VERIFY, variables)
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["verifySignUp"]
    return payload


async def test_sign_up_by_mrn_mails_a_code_to_the_email_on_file(
    fresh_portal: Portal, mailbox: Mailbox
) -> None:
    [person] = await people_without_account(fresh_portal)
    # Names as people type them: other case, extra spaces.
    identity = _identity(person, givenName=f"  {person.given_name.upper()} ", mrn=person.mrn)
    started = await _sign_up(fresh_portal, identity)
    assert started["errors"] == []
    await deliver(fresh_portal)
    [mail] = mailbox.to(person.email)
    code = code_in(mail)
    payload = await _verify(fresh_portal, started["verificationId"], code)
    assert payload["errors"] == []
    assert payload["viewer"]["account"] == {"username": "new.patient", "email": person.email}
    assert (await sign_in(fresh_portal, "new.patient", NEW_PASSWORD))["errors"] == []
    # The code worked once.
    again = await _verify(fresh_portal, started["verificationId"], code, username="other.name")
    assert codes(again) == ["CODE_USED"]


async def test_sign_up_by_email_on_file_works_too(fresh_portal: Portal, mailbox: Mailbox) -> None:
    [person] = await people_without_account(fresh_portal)
    identity = _identity(person, mrn=None, email=person.email.upper())
    started = await _sign_up(fresh_portal, identity)
    await deliver(fresh_portal)
    [mail] = mailbox.to(person.email)
    assert (await _verify(fresh_portal, started["verificationId"], code_in(mail)))["errors"] == []


async def test_sign_up_answers_the_same_whether_or_not_a_patient_matched(
    fresh_portal: Portal, mailbox: Mailbox
) -> None:
    [person] = await people_without_account(fresh_portal)
    matched = await _sign_up(fresh_portal, _identity(person))
    unmatched = await _sign_up(fresh_portal, _identity(person, familyName="Nobody"))
    new_email = await _sign_up(
        fresh_portal, _identity(person, mrn=None, email="attacker@example.net")
    )
    answers = [matched, unmatched, new_email]
    # Identical but for the opaque verification id, which looks the same in each case.
    assert len({str({**a, "verificationId": None}) for a in answers}) == 1
    assert len({len(a["verificationId"]) for a in answers}) == 1
    await deliver(fresh_portal)
    # Only the patient's email on file got mail; never the address given in the request.
    assert [str(x["To"]) for x in mailbox.received] == [person.email]
    # An unmatched verification fails exactly like a wrong code, even with "the" code.
    code = code_in(mailbox.received[0])
    wrong = await _verify(fresh_portal, matched["verificationId"], "00000000")
    nobody = await _verify(fresh_portal, unmatched["verificationId"], code)
    assert wrong == nobody
    assert codes(wrong) == ["INVALID_CODE"]


async def test_a_patient_who_has_an_account_gets_a_reminder_not_a_code(
    fresh_portal: Portal, mailbox: Mailbox
) -> None:
    async with fresh_portal.services.sessions() as session:
        alex = await session.get(m.Account, "acc-0000001")
        assert alex is not None
        assert alex.patient_id is not None
        patient = await session.get(m.Patient, alex.patient_id)
        assert patient is not None
        assert patient.email is not None
    person = Person(
        patient.id,
        patient.mrn,
        patient.given_name,
        patient.family_name,
        patient.birth_date,
        patient.email,
    )
    started = await _sign_up(fresh_portal, _identity(person))
    assert started["errors"] == []
    await deliver(fresh_portal)
    [mail] = mailbox.to(person.email)
    assert ALEX in body_of(mail)
    assert codes(await _verify(fresh_portal, started["verificationId"], "12345678")) == [
        "INVALID_CODE"
    ]


async def test_a_verification_dies_after_five_wrong_codes_or_thirty_minutes(
    fresh_portal: Portal, mailbox: Mailbox
) -> None:
    [person] = await people_without_account(fresh_portal)
    first = await _sign_up(fresh_portal, _identity(person))
    await deliver(fresh_portal)
    second = await _sign_up(fresh_portal, _identity(person))
    await deliver(fresh_portal)
    first_code, second_code = (code_in(x) for x in mailbox.to(person.email))
    for _ in range(5):
        assert codes(await _verify(fresh_portal, first["verificationId"], "99999999")) == [
            "INVALID_CODE"
        ]
    dead = await _verify(fresh_portal, first["verificationId"], first_code)
    assert codes(dead) == ["TOO_MANY_ATTEMPTS"]
    fresh_portal.clock.advance(timedelta(minutes=30))
    expired = await _verify(fresh_portal, second["verificationId"], second_code)
    assert codes(expired) == ["CODE_EXPIRED"]
    assert await account_of(fresh_portal, person.id) is None


async def test_sign_up_input_errors(fresh_portal: Portal) -> None:
    [person] = await people_without_account(fresh_portal)
    cases = [
        (_identity(person, mrn=None), "MRN_OR_EMAIL_REQUIRED"),
        (_identity(person, mrn="  "), "MRN_OR_EMAIL_REQUIRED"),
        (_identity(person, mrn=None, email="not-an-email"), "INVALID_EMAIL"),
        (_identity(person, givenName=" "), "NAME_REQUIRED"),
    ]
    for identity, code in cases:
        assert codes(await _sign_up(fresh_portal, identity)) == [code]
    assert await count(fresh_portal, m.SignUpVerification) == 0
    assert await pending_mail(fresh_portal) == 0


async def test_sign_up_mails_are_capped_per_hour(fresh_portal: Portal, mailbox: Mailbox) -> None:
    [person] = await people_without_account(fresh_portal)
    answers = [await _sign_up(fresh_portal, _identity(person)) for _ in range(5)]
    assert len({a["message"] for a in answers}) == 1
    await deliver(fresh_portal)
    assert len(mailbox.to(person.email)) == 3
    fresh_portal.clock.advance(timedelta(hours=1, seconds=1))
    await _sign_up(fresh_portal, _identity(person))
    await deliver(fresh_portal)
    assert len(mailbox.to(person.email)) == 4


async def test_account_creation_needs_no_token_and_ignores_one(fresh_portal: Portal) -> None:
    [person] = await people_without_account(fresh_portal)
    code = await activation_code(fresh_portal, person.id)
    result = await fresh_portal.gql(
        "mutation A($input: ActivateAccountInput!) { activateAccount(input: $input) { "
        "viewer { account { username } } errors { code } } }",
        {"input": _activation(person, code)},
        as_user=ALEX,
    )
    payload = result["data"]["activateAccount"]
    assert payload["viewer"]["account"]["username"] == "new.patient"
    assert (await sign_in(fresh_portal, ALEX, DEMO_PASSWORD))["errors"] == []


async def test_the_activation_code_command_prints_a_working_code(
    fresh_portal: Portal, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_seed import portal_cli  # puts back the log handlers main() replaces

    [person] = await people_without_account(fresh_portal)
    url = fresh_portal.services.settings.database_url
    argv = ["--database-url", url, "activation-code", "--patient", person.id, "--days", "3"]
    assert await portal_cli(*argv) == 0
    code = capsys.readouterr().out.strip()
    assert (await activate(fresh_portal, **_activation(person, code)))["errors"] == []
    unknown = ["--database-url", url, "activation-code", "--patient", "pat-nobody"]
    assert await portal_cli(*unknown) == 1
