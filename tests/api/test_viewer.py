"""The viewer and the patients they may act for."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

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
