"""The viewer and the patients they may act for."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ALEX, DANIEL, Portal, errors_of

VIEWER = """
query Viewer {
  viewer {
    account { username }
    patients { relationship scopes patient { name { display } age } }
  }
}
"""


async def test_signed_out_viewer_is_null(portal: Portal) -> None:
    result = await portal.gql(VIEWER)
    assert result == {"data": {"viewer": None}}


async def test_forged_token_is_unauthenticated(portal: Portal) -> None:
    result = await portal.gql(VIEWER, token=await portal.token(ALEX) + "x")
    assert result["data"] == {"viewer": None}
    assert errors_of(result) == [("UNAUTHENTICATED", None)]


async def test_parent_sees_self_first_then_children(portal: Portal) -> None:
    result = await portal.gql(VIEWER, as_user=ALEX)
    patients = result["data"]["viewer"]["patients"]
    assert [p["relationship"] for p in patients] == ["SELF", "PARENT", "PARENT"]
    assert patients[0]["patient"]["name"]["display"] == "Alex Rivera"


async def test_proxy_with_only_expired_and_pending_grants_has_no_patients(portal: Portal) -> None:
    result = await portal.gql(VIEWER, as_user=DANIEL)
    assert result["data"]["viewer"]["patients"] == []


ACCESS = """
query Viewer {
  viewer { patients { patient { birthDate } expiresAt access { scope allowed changesOn } } }
}
"""


async def test_a_grant_ending_on_a_birthday_changes_on_that_birthday(portal: Portal) -> None:
    """Mia's full grant ends on her 12th birthday: that is the day reported, and the grant
    lasts until that day starts in the health system's zone (not UTC midnight: a day early)."""
    result = await portal.gql(ACCESS, as_user=ALEX)
    mia = next(
        p for p in result["data"]["viewer"]["patients"] if p["patient"]["birthDate"] > "2015"
    )
    birth = date.fromisoformat(mia["patient"]["birthDate"])
    twelfth = birth.replace(year=birth.year + 12).isoformat()
    results = next(a for a in mia["access"] if a["scope"] == "RESULTS")
    assert (results["allowed"], results["changesOn"]) == (True, twelfth)
    ends = datetime.fromisoformat(mia["expiresAt"]).astimezone(ZoneInfo("America/New_York"))
    assert (ends.date().isoformat(), ends.hour, ends.minute) == (twelfth, 0, 0)


async def test_access_and_categories_are_made_only_when_asked(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each patient's areas and sensitive categories (a dozen objects a patient) are made
    for a client that asks for them, not for the home screens' lists of patients."""
    from schema import notes, patients

    made: list[str] = []
    scope_access = patients.ScopeAccess.from_facts
    category_access = notes.SensitiveCategoryAccess

    def area(facts: Any) -> patients.ScopeAccess:
        made.append("area")
        return scope_access(facts)

    def category(**values: Any) -> notes.SensitiveCategoryAccess:
        made.append("category")
        return category_access(**values)

    monkeypatch.setattr(patients.ScopeAccess, "from_facts", area)
    monkeypatch.setattr(patients, "SensitiveCategoryAccess", category)
    listed = await portal.gql(VIEWER, as_user=ALEX)
    assert len(listed["data"]["viewer"]["patients"]) == 3
    assert made == []
    asked = await portal.gql(
        "{ viewer { patients { access { scope } sensitiveCategories { allowed } } } }",
        as_user=ALEX,
    )
    patients_asked = asked["data"]["viewer"]["patients"]
    assert made.count("area") == sum(len(p["access"]) for p in patients_asked) > 0
    assert made.count("category") == sum(len(p["sensitiveCategories"]) for p in patients_asked)
