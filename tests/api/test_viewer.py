"""The viewer and the patients they may act for."""

from __future__ import annotations

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
