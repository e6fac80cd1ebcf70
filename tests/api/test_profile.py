"""updateProfile: preferred name and pronouns, self only, changed at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from persistence import models as m
from tests.conftest import ALEX, JORDAN, Portal, errors_of, patient_gid

ALEX_PATIENT, MIA = "pat-0000001", "pat-0000003"
UPDATE = """
mutation Update($input: UpdateProfileInput!) {
  updateProfile(input: $input) {
    patient { name { given family preferred pronouns display } }
    errors { code message field }
  }
}
"""


async def update(portal: Portal, user: str, **fields: Any) -> dict[str, Any]:
    return await portal.gql(UPDATE, {"input": fields}, as_user=user)


async def stored(portal: Portal, patient_id: str) -> tuple[str, str, str | None, str | None]:
    async with portal.services.session() as session:
        p = m.Patient
        row = (
            await session.execute(
                select(p.given_name, p.family_name, p.preferred_name, p.pronouns).where(
                    p.id == patient_id
                )
            )
        ).one()
    return row[0], row[1], row[2], row[3]


async def test_a_patient_sets_and_clears_preferred_name_and_pronouns(fresh_portal: Portal) -> None:
    given, family, _, _ = await stored(fresh_portal, ALEX_PATIENT)
    result = await update(
        fresh_portal,
        ALEX,
        patientId=patient_gid(ALEX_PATIENT),
        preferredName=" Lex ",
        pronouns="they/them",
    )
    name = result["data"]["updateProfile"]["patient"]["name"]
    assert name == {
        "given": given,
        "family": family,
        "preferred": "Lex",
        "pronouns": "they/them",
        "display": f"Lex {family}",
    }
    assert await stored(fresh_portal, ALEX_PATIENT) == (given, family, "Lex", "they/them")
    # Only what is sent changes; an empty value clears.
    await update(fresh_portal, ALEX, patientId=patient_gid(ALEX_PATIENT), preferredName="")
    assert await stored(fresh_portal, ALEX_PATIENT) == (given, family, None, "they/them")


async def test_refusals_change_nothing(fresh_portal: Portal) -> None:
    before = await stored(fresh_portal, ALEX_PATIENT)
    cases = [
        ({}, [("NOTHING_TO_CHANGE", None)]),
        (
            {"preferredName": "x" * 101, "pronouns": "y" * 41},
            [("INVALID_INPUT", "preferredName"), ("INVALID_INPUT", "pronouns")],
        ),
    ]
    for fields, expected in cases:
        result = await update(fresh_portal, ALEX, patientId=patient_gid(ALEX_PATIENT), **fields)
        payload = result["data"]["updateProfile"]
        assert [(e["code"], e["field"]) for e in payload["errors"]] == expected
        assert payload["patient"] is None
    bad = await update(fresh_portal, ALEX, patientId="%%%", pronouns="she/her")
    assert [e["code"] for e in bad["data"]["updateProfile"]["errors"]] == ["INVALID_ID"]
    assert await stored(fresh_portal, ALEX_PATIENT) == before


async def test_a_proxy_may_not_change_a_patients_profile(fresh_portal: Portal) -> None:
    before = await stored(fresh_portal, MIA)
    for user in (ALEX, JORDAN):  # her parents
        result = await update(fresh_portal, user, patientId=patient_gid(MIA), pronouns="she/her")
        assert errors_of(result) == [("FORBIDDEN", "SELF_ONLY")]
    assert await stored(fresh_portal, MIA) == before
