"""Pre-visit questionnaires and consent forms: served with the appointment, answers checked
against the definition (every problem at once, nothing saved), drafts then one submission,
consents signed once, and checkIn waiting for what is required, on every backend."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from persistence import models as m
from persistence.forms_catalog import CONSENT_TO_TREAT, publish_catalog
from schema.base import to_global_id
from tests.conftest import ALEX, NOW, SUSAN, Portal, errors_of

ALEX_PT, MIA = "pat-0000001", "pat-0000003"
VISIT, MIA_VISIT = "apt-forms-alex", "apt-forms-mia"

FORMS = """query($id: ID!) { node(id: $id) { ... on Appointment { forms {
  formId version kind title required status consentTextSha256
  items { linkId type required options { value } enableWhen { question answer } }
  answers { linkId value } submittedAt signedName signedAs } } } }"""
SAVE = """mutation($input: SaveFormAnswersInput!) { saveFormAnswers(input: $input) {
  form { formId status answers { linkId value } submittedAt signedAs }
  errors { code field message problems { linkId message } } } }"""
SIGN = """mutation($input: SignConsentInput!) { signConsent(input: $input) {
  form { formId status signedName signedAs submittedAt version consentTextSha256 }
  errors { code field } } }"""
CHECK_IN = """mutation($input: CheckInInput!) { checkIn(input: $input) {
  appointment { status } errors { code message field } } }"""


@pytest.fixture
async def clinic(fresh_portal: Portal) -> Portal:
    """The demo forms, and a telehealth visit in two days for Alex and one for Mia."""
    defaults = {
        "provider_id": "prv-00001",
        "department_id": "dep-001",
        "visit_type": "Telehealth Visit",
        "reason": None,
        "starts_at": NOW + timedelta(days=2),
        "duration_minutes": 20,
        "status": "scheduled",
        "telehealth": True,
        "questionnaire_complete": False,
    }
    async with fresh_portal.services.session() as session, session.begin():
        await publish_catalog(session, NOW)
        await session.execute(
            insert(m.Appointment),
            [
                {**defaults, "id": VISIT, "patient_id": ALEX_PT},
                {**defaults, "id": MIA_VISIT, "patient_id": MIA},
            ],
        )
    return fresh_portal


def appointment(visit: str = VISIT) -> str:
    return str(to_global_id("Appointment", visit))


async def forms(portal: Portal, user: str = ALEX, visit: str = VISIT) -> dict[str, Any]:
    result = await portal.gql(FORMS, {"id": appointment(visit)}, as_user=user)
    assert "errors" not in result, result
    return {f["formId"]: f for f in result["data"]["node"]["forms"]}


async def save(
    portal: Portal, answers: dict[str, str], *, submit: bool, form: str = "health-history"
) -> dict[str, Any]:
    input = {
        "appointmentId": appointment(),
        "formId": form,
        "answers": [{"linkId": k, "value": v} for k, v in answers.items()],
        "submit": submit,
    }
    result = await portal.gql(SAVE, {"input": input}, as_user=ALEX)
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["saveFormAnswers"]
    return payload


async def sign(
    portal: Portal, form: str, name: str, agree: bool = True, user: str = ALEX, visit: str = VISIT
) -> dict[str, Any]:
    input = {"appointmentId": appointment(visit), "formId": form, "fullName": name}
    result = await portal.gql(SIGN, {"input": input | {"agree": agree}}, as_user=user)
    return result


async def responses(portal: Portal) -> int:
    async with portal.services.session() as session:
        return int(await session.scalar(select(func.count()).select_from(m.FormResponse)) or 0)


async def test_the_appointment_serves_the_forms_of_its_visit_type(clinic: Portal) -> None:
    found = await forms(clinic)
    assert sorted(found) == ["consent-to-treat", "health-history", "telehealth-consent"]
    assert all(f["status"] == "DUE" and f["required"] for f in found.values())
    history = found["health-history"]
    assert history["version"] == 2
    assert history["kind"] == "QUESTIONNAIRE"
    packs = next(i for i in history["items"] if i["linkId"] == "packs-per-day")
    assert packs["enableWhen"] == {"question": "smoker", "answer": "true"}
    consent = found["consent-to-treat"]
    expected = hashlib.sha256(str(CONSENT_TO_TREAT.consent_text).encode()).hexdigest()
    assert consent["consentTextSha256"] == expected


async def test_a_questionnaire_with_a_missing_required_item_lists_it_and_saves_nothing(
    clinic: Portal,
) -> None:
    answers = {"smoker": "true", "pain": "agonizing", "shoe-size": "9", "last-tetanus": "May"}
    for submit in (True, False):
        payload = await save(clinic, answers, submit=submit)
        [error] = payload["errors"]
        assert error["code"] == "INVALID_ANSWERS"
        problems = {p["linkId"]: p["message"] for p in error["problems"]}
        expected = {"pain", "shoe-size", "last-tetanus"} | ({"packs-per-day"} if submit else set())
        assert set(problems) == expected
        assert payload["form"] is None
        if submit:
            assert problems["packs-per-day"] == "is required"
    assert await responses(clinic) == 0
    assert (await forms(clinic))["health-history"]["status"] == "DUE"


async def test_a_draft_then_one_submission(clinic: Portal) -> None:
    draft = await save(clinic, {"smoker": "false"}, submit=False)
    assert draft["errors"] == []
    assert draft["form"]["status"] == "DRAFT"
    assert draft["form"]["answers"] == [{"linkId": "smoker", "value": "false"}]
    # An item not asked given the answers is refused, not kept.
    not_asked = await save(clinic, {"smoker": "false", "packs-per-day": "1"}, submit=False)
    assert [p["linkId"] for p in not_asked["errors"][0]["problems"]] == ["packs-per-day"]
    done = await save(clinic, {"smoker": "true", "packs-per-day": "1", "pain": "mild"}, submit=True)
    assert done["errors"] == []
    assert done["form"]["status"] == "DONE"
    assert done["form"]["signedAs"] == "SELF"
    assert done["form"]["submittedAt"] is not None
    again = await save(clinic, {"smoker": "false", "pain": "none"}, submit=True)
    assert again["errors"] == [
        {
            "code": "ALREADY_SUBMITTED",
            "field": "formId",
            "message": again["errors"][0]["message"],
            "problems": [],
        }
    ]
    kept = (await forms(clinic))["health-history"]
    assert {a["linkId"]: a["value"] for a in kept["answers"]}["smoker"] == "true"


async def test_a_consent_is_signed_once_by_name_version_and_text_hash(clinic: Portal) -> None:
    refused = await sign(clinic, "consent-to-treat", "Alexandra Rivera", agree=False)
    assert refused["data"]["signConsent"]["errors"] == [
        {"code": "SIGNATURE_REQUIRED", "field": "fullName"}
    ]
    blank = await sign(clinic, "consent-to-treat", "   ")
    assert blank["data"]["signConsent"]["errors"][0]["code"] == "SIGNATURE_REQUIRED"
    signed = (await sign(clinic, "consent-to-treat", "  Alexandra   Rivera "))["data"]
    form = signed["signConsent"]["form"]
    assert form["status"] == "DONE"
    assert form["signedName"] == "Alexandra Rivera"
    assert form["signedAs"] == "SELF"
    assert form["version"] == 1
    async with clinic.services.session() as session:
        row = await session.scalar(
            select(m.FormResponse).where(m.FormResponse.form_id == "consent-to-treat")
        )
    assert row is not None
    assert row.text_sha256 == CONSENT_TO_TREAT.text_sha256
    assert row.form_version == 1
    again = await sign(clinic, "consent-to-treat", "Someone Else")
    assert again["data"]["signConsent"]["errors"][0]["code"] == "ALREADY_SUBMITTED"
    wrong_kind = await sign(clinic, "health-history", "Alexandra Rivera")
    assert wrong_kind["data"]["signConsent"]["errors"][0]["code"] == "NOT_A_CONSENT"
    answered = await save(clinic, {}, submit=False, form="telehealth-consent")
    assert answered["errors"][0]["code"] == "NOT_A_QUESTIONNAIRE"
    unknown = await sign(clinic, "phq-2", "Alexandra Rivera")  # not asked for this visit
    assert unknown["data"]["signConsent"]["errors"][0]["code"] == "FORM_NOT_FOUND"


async def test_a_parent_signs_for_a_child_and_a_stranger_cannot(clinic: Portal) -> None:
    stranger = await sign(clinic, "consent-to-treat", "Susan Walsh", user=SUSAN, visit=MIA_VISIT)
    assert errors_of(stranger) == [("FORBIDDEN", "NOT_A_PATIENT")]
    parent = await sign(clinic, "consent-to-treat", "Alexandra Rivera", visit=MIA_VISIT)
    assert parent["data"]["signConsent"]["form"]["signedAs"] == "PARENT"


async def test_check_in_waits_for_every_required_form_naming_them(clinic: Portal) -> None:
    input = {"appointmentId": appointment(), "contactConfirmed": True, "insuranceConfirmed": True}
    refused = (await clinic.gql(CHECK_IN, {"input": input}, as_user=ALEX))["data"]["checkIn"]
    [error] = refused["errors"]
    assert error["code"] == "FORMS_DUE"
    for title in ("Health history update", "Consent to treatment", "Telehealth consent"):
        assert title in error["message"]
    assert refused["appointment"] is None
    await save(clinic, {"smoker": "false", "pain": "none"}, submit=True)
    await sign(clinic, "consent-to-treat", "Alexandra Rivera")
    still = (await clinic.gql(CHECK_IN, {"input": input}, as_user=ALEX))["data"]["checkIn"]
    assert still["errors"][0]["message"].endswith("Telehealth consent.")
    await sign(clinic, "telehealth-consent", "Alexandra Rivera")
    done = (await clinic.gql(CHECK_IN, {"input": input}, as_user=ALEX))["data"]["checkIn"]
    assert done["errors"] == []
    assert done["appointment"]["status"] == "CHECKED_IN"
    assert all(f["status"] == "DONE" for f in (await forms(clinic)).values())


async def test_check_in_answers_only_what_the_forms_ask(clinic: Portal) -> None:
    """checkIn's free-form answers used to be kept whatever they answered: now a question no
    form of the visit asks is refused (each listed), and an asked one must be valid."""
    await save(clinic, {"smoker": "false", "pain": "none"}, submit=True)
    for form in ("consent-to-treat", "telehealth-consent"):
        await sign(clinic, form, "Alexandra Rivera")
    base = {"appointmentId": appointment(), "contactConfirmed": True, "insuranceConfirmed": True}
    cases = [
        (
            [("favourite-colour", "blue"), ("smoker", "false"), ("shoe-size", "9")],
            "UNKNOWN_QUESTIONS",
            "favourite-colour, shoe-size",
        ),
        ([("smoker", "maybe")], "INVALID_INPUT", "smoker: must be true or false"),
    ]
    for answers, code, named in cases:
        input = base | {"answers": [{"questionId": q, "answer": a} for q, a in answers]}
        refused = (await clinic.gql(CHECK_IN, {"input": input}, as_user=ALEX))["data"]["checkIn"]
        [error] = refused["errors"]
        assert (error["code"], error["field"]) == (code, "answers")
        assert named in error["message"]
        assert refused["appointment"] is None
    input = base | {"answers": [{"questionId": "smoker", "answer": "true"}]}
    done = (await clinic.gql(CHECK_IN, {"input": input}, as_user=ALEX))["data"]["checkIn"]
    assert done["errors"] == []
    assert done["appointment"]["status"] == "CHECKED_IN"
