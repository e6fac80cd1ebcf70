"""Test results: pages, release status, values only once released, trends and proxy rules.

Subjects from the 60-patient dataset (seed 1): pat-0000059 (account acc-0000038) has 26 lab
results, 12 of them Hemoglobin A1c (LOINC 4548-4), with out-of-range values; its newest,
res-0000360, is final but was never released by the EHR (`released_at` null).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, update

from domain.results import ReleasePolicy
from domain.scopes import Scope
from persistence import models as m
from schema.base import to_global_id
from tests.conftest import (
    ACCOUNT_IDS,
    ALEX,
    LEO_ACCOUNT,
    NOW,
    Database,
    Portal,
    _portal,
    errors_of,
    patient_gid,
)

OWNER = "acc-0000038"
PATIENT = "pat-0000059"
MIA, LEO = "pat-0000003", "pat-0000004"
A1C = "4548-4"
NEWEST = [
    "res-0000360",
    "res-0000359",
    "res-0000357",
    "res-0000355",
    "res-0000354",
    "res-0000356",
    "res-0000358",
    "res-0000352",
    "res-0000353",
    "res-0000350",
]

RESULT_FIELDS = """
  id name code kind status collectedAt resultedAt
  releaseStatus releasedAt expectedReleaseAt
  orderingProvider { name }
  providerComment report
  components {
    code name value valueText unit flag
    referenceRange { low high text }
  }
"""

RESULTS = """
query Results($id: ID!, $kind: ResultKind, $first: Int, $after: String) {
  patient(id: $id) {
    results(kind: $kind, first: $first, after: $after) {
      edges { cursor node { id kind releaseStatus } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

NODE = f"""
query Node($id: ID!) {{
  node(id: $id) {{ ... on Result {{ {RESULT_FIELDS} }} }}
}}
"""

TREND = """
query Trend($id: ID!, $code: String!) {
  patient(id: $id) { resultTrend(code: $code) { at value unit flag resultId } }
}
"""

FAMILY_RESULTS = """
query FamilyResults($first: Int) {
  viewer {
    patients {
      patient {
        results(first: $first) {
          nodes { id orderingProvider { name } components { code flag } }
        }
      }
    }
  }
}
"""

PATIENT_RESULTS_AND_TREND = """
query PatientResults($id: ID!) {
  patient(id: $id) {
    results { nodes { id components { code value flag } } }
    resultTrend(code: "2345-7") { value resultId }
  }
}
"""


def result_gid(result_id: str) -> str:
    return str(to_global_id("Result", result_id))


async def as_owner(portal: Portal, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    return await portal.gql(query, variables, token=await portal.token_for_account(OWNER))


async def node_of(portal: Portal, result_id: str) -> dict[str, Any]:
    return await as_owner(portal, NODE, {"id": result_gid(result_id)})


def held_for_review(result: dict[str, Any]) -> list[tuple[str, str | None, list[Any]]]:
    return [
        (e["extensions"]["code"], e["extensions"].get("reason"), e["path"])
        for e in result.get("errors", [])
    ]


@pytest.fixture
async def review_portal(seeded_db: Database) -> AsyncIterator[Portal]:
    """Shared data; results are released by the EHR only (no automatic release)."""
    async for p in _portal(seeded_db, release=ReleasePolicy(default_hold=None)):
        yield p


@pytest.fixture
async def a1c_hold_portal(seeded_db: Database) -> AsyncIterator[Portal]:
    """Shared data; A1c results are released automatically 30 days after they are resulted."""
    policy = ReleasePolicy(hold_by_code={A1C: timedelta(days=30)})
    async for p in _portal(seeded_db, release=policy):
        yield p


# -- released results: values with computed flags --------------------------------------------
async def test_released_result_shows_components_with_flags_computed_from_the_range(
    portal: Portal,
) -> None:
    result = await node_of(portal, "res-0000355")  # a Basic Metabolic Panel
    assert "errors" not in result
    panel = result["data"]["node"]
    assert panel["name"] == "Basic Metabolic Panel"
    assert (panel["kind"], panel["status"]) == ("LAB", "FINAL")
    assert panel["releaseStatus"] == "RELEASED"
    assert panel["releasedAt"] == "2026-10-14T02:55:00+00:00"
    assert panel["orderingProvider"]["name"]
    by_code = {c["code"]: c for c in panel["components"]}
    glucose, sodium = by_code["2345-7"], by_code["2951-2"]
    assert (glucose["value"], glucose["referenceRange"]) == (
        164,
        {"low": 70, "high": 99, "text": "70 - 99"},
    )
    assert glucose["flag"] == "HIGH"
    assert (sodium["value"], sodium["referenceRange"]["low"], sodium["flag"]) == (134, 136, "LOW")
    for c in panel["components"]:
        low, high = c["referenceRange"]["low"], c["referenceRange"]["high"]
        expected = (
            None
            if low is None and high is None
            else "LOW"
            if low is not None and c["value"] < low
            else "HIGH"
            if high is not None and c["value"] > high
            else "NORMAL"
        )
        assert c["flag"] == expected, c


async def test_imaging_result_shows_its_report(portal: Portal) -> None:
    result = await portal.gql(NODE, {"id": result_gid("res-0000003")}, as_user=ALEX)
    mammogram = result["data"]["node"]
    assert (mammogram["kind"], mammogram["releaseStatus"]) == ("IMAGING", "RELEASED")
    assert mammogram["report"].startswith("EXAM: MG Breast Screening")
    assert mammogram["components"] == []


# -- paging and filtering -----------------------------------------------------------------
async def test_results_are_newest_first_and_page_with_cursors(portal: Portal) -> None:
    first = await as_owner(portal, RESULTS, {"id": patient_gid(PATIENT), "first": 10})
    page = first["data"]["patient"]["results"]
    assert [e["node"]["id"] for e in page["edges"]] == [result_gid(r) for r in NEWEST]
    assert page["pageInfo"]["hasNextPage"] is True

    after = page["pageInfo"]["endCursor"]
    rest = await as_owner(
        portal, RESULTS, {"id": patient_gid(PATIENT), "first": 20, "after": after}
    )
    rest_page = rest["data"]["patient"]["results"]
    assert rest_page["pageInfo"]["hasNextPage"] is False
    ids = [e["node"]["id"] for e in page["edges"] + rest_page["edges"]]
    assert len(ids) == len(set(ids)) == 26
    assert ids[10] == result_gid("res-0000351")  # the next older one
    assert ids[-1] == result_gid("res-0000339")


async def test_bad_cursor_and_page_size_are_bad_user_input(portal: Portal) -> None:
    for variables in ({"after": "not-a-cursor"}, {"first": 1000}):
        result = await as_owner(portal, RESULTS, {"id": patient_gid(PATIENT), **variables})
        assert result["data"] == {"patient": {"results": None}}
        assert errors_of(result) == [("BAD_USER_INPUT", None)]


async def test_kind_filter(portal: Portal) -> None:
    alex = patient_gid("pat-0000001")
    imaging = await portal.gql(RESULTS, {"id": alex, "kind": "IMAGING"}, as_user=ALEX)
    lab = await portal.gql(RESULTS, {"id": alex, "kind": "LAB"}, as_user=ALEX)
    every = await portal.gql(RESULTS, {"id": alex}, as_user=ALEX)

    def ids(result: dict[str, Any]) -> list[str]:
        return [e["node"]["id"] for e in result["data"]["patient"]["results"]["edges"]]

    assert ids(imaging) == [result_gid("res-0000004"), result_gid("res-0000003")]
    assert ids(lab) == [result_gid("res-0000002"), result_gid("res-0000001")]
    assert sorted(ids(every)) == sorted(ids(imaging) + ids(lab))


# -- not released yet: status and dates, never the values ---------------------------------
def assert_values_withheld(result: dict[str, Any]) -> None:
    pending = result["data"]["node"]
    assert (pending["components"], pending["providerComment"], pending["report"]) == (
        None,
        None,
        None,
    )
    assert sorted(held_for_review(result)) == [
        ("FORBIDDEN", "HELD_FOR_REVIEW", ["node", "components"]),
        ("FORBIDDEN", "HELD_FOR_REVIEW", ["node", "providerComment"]),
        ("FORBIDDEN", "HELD_FOR_REVIEW", ["node", "report"]),
    ]


async def test_result_not_released_by_the_ehr_is_pending_without_values(
    review_portal: Portal,
) -> None:
    result = await node_of(review_portal, "res-0000360")
    pending = result["data"]["node"]
    assert (pending["name"], pending["status"]) == ("Hemoglobin A1c", "FINAL")
    assert pending["resultedAt"] == "2026-11-01T09:29:00+00:00"
    assert pending["releaseStatus"] == "PENDING_REVIEW"
    assert (pending["releasedAt"], pending["expectedReleaseAt"]) == (None, None)
    assert_values_withheld(result)

    # The list shows it too, as pending, among released ones.
    listed = await as_owner(review_portal, RESULTS, {"id": patient_gid(PATIENT), "first": 2})
    statuses = [e["node"]["releaseStatus"] for e in listed["data"]["patient"]["results"]["edges"]]
    assert statuses == ["PENDING_REVIEW", "RELEASED"]


async def test_same_result_is_released_at_once_under_the_default_policy(portal: Portal) -> None:
    result = await node_of(portal, "res-0000360")
    released = result["data"]["node"]
    assert "errors" not in result
    assert released["releaseStatus"] == "RELEASED"
    assert released["releasedAt"] == released["resultedAt"]
    # The second component (estimated average glucose) has no reference range: no flag.
    assert [c["flag"] for c in released["components"]] == ["HIGH", None]


async def test_configured_hold_gives_expected_release_date(a1c_hold_portal: Portal) -> None:
    result = await node_of(a1c_hold_portal, "res-0000360")
    held = result["data"]["node"]
    assert held["releaseStatus"] == "HELD_UNTIL"
    assert held["expectedReleaseAt"] == "2026-12-01T09:29:00+00:00"
    assert held["releasedAt"] is None
    assert_values_withheld(result)

    # Another code is not held; and when the hold ends, the values show.
    assert (await node_of(a1c_hold_portal, "res-0000359"))["data"]["node"]["components"]
    a1c_hold_portal.clock.advance(timedelta(days=10))
    later = await node_of(a1c_hold_portal, "res-0000360")
    assert later["data"]["node"]["releaseStatus"] == "RELEASED"
    assert later["data"]["node"]["releasedAt"] == "2026-12-01T09:29:00+00:00"
    assert later["data"]["node"]["components"]


async def add_hold(portal: Portal, patient_id: str, kind: str) -> None:
    async with portal.services.session() as session:
        await session.execute(
            insert(m.ResultHoldPreference).values(patient_id=patient_id, kind=kind, created_at=NOW)
        )
        await session.commit()


async def test_patient_hold_preference_holds_that_kind_only(fresh_portal: Portal) -> None:
    await add_hold(fresh_portal, PATIENT, "imaging")
    assert (await node_of(fresh_portal, "res-0000360"))["data"]["node"]["releaseStatus"] == (
        "RELEASED"
    )

    await add_hold(fresh_portal, PATIENT, "lab")
    result = await node_of(fresh_portal, "res-0000360")
    held = result["data"]["node"]
    assert held["releaseStatus"] == "HELD_AT_PATIENT_REQUEST"
    assert (held["releasedAt"], held["expectedReleaseAt"]) == (None, None)
    assert_values_withheld(result)
    # What the EHR released stays released.
    released = await node_of(fresh_portal, "res-0000359")
    assert released["data"]["node"]["releaseStatus"] == "RELEASED"
    assert released["data"]["node"]["components"]
    # The trend leaves the held value out.
    trend = await as_owner(fresh_portal, TREND, {"id": patient_gid(PATIENT), "code": A1C})
    points = trend["data"]["patient"]["resultTrend"]
    assert result_gid("res-0000360") not in [p["resultId"] for p in points]
    assert len(points) == 11


# -- trends --------------------------------------------------------------------------------
async def test_trend_has_released_points_only_oldest_first(review_portal: Portal) -> None:
    result = await as_owner(review_portal, TREND, {"id": patient_gid(PATIENT), "code": A1C})
    points = result["data"]["patient"]["resultTrend"]
    assert len(points) == 11  # 12 A1c results; res-0000360 is not released
    assert result_gid("res-0000360") not in [p["resultId"] for p in points]
    assert [p["at"] for p in points] == sorted(p["at"] for p in points)
    assert points[0] == {
        "at": "2024-09-17T17:59:00+00:00",
        "value": 8.5,
        "unit": "%",
        "flag": "HIGH",
        "resultId": result_gid("res-0000338"),
    }
    # Collected order, not resulted order (res-0000351 was resulted first, collected later).
    ids = [p["resultId"] for p in points]
    assert ids.index(result_gid("res-0000350")) < ids.index(result_gid("res-0000351"))
    assert points[-1]["resultId"] == result_gid("res-0000357")


async def test_trend_includes_every_released_value_under_the_default_policy(
    portal: Portal,
) -> None:
    result = await as_owner(portal, TREND, {"id": patient_gid(PATIENT), "code": A1C})
    points = result["data"]["patient"]["resultTrend"]
    assert len(points) == 12
    assert points[-1]["resultId"] == result_gid("res-0000360")
    # A component code shared by different panels (glucose in BMP and CMP).
    glucose = await as_owner(portal, TREND, {"id": patient_gid(PATIENT), "code": "2345-7"})
    ids = [p["resultId"] for p in glucose["data"]["patient"]["resultTrend"]]
    assert ids == [result_gid(r) for r in ("res-0000336", "res-0000342", "res-0000348")] + [
        result_gid("res-0000355")
    ]
    unknown = await as_owner(portal, TREND, {"id": patient_gid(PATIENT), "code": "0000-0"})
    assert unknown["data"]["patient"]["resultTrend"] == []


# -- batching ------------------------------------------------------------------------------
async def statements_for(portal: Portal, query: str, variables: dict[str, Any]) -> int:
    before = portal.statements
    result = await portal.gql(query, variables, as_user=ALEX)
    assert result["data"] is not None
    return portal.statements - before


async def test_statement_count_does_not_depend_on_the_number_of_results(portal: Portal) -> None:
    one = await statements_for(portal, FAMILY_RESULTS, {"first": 1})
    many = await statements_for(portal, FAMILY_RESULTS, {"first": 100})
    assert one == many


async def test_trend_is_one_statement(portal: Portal) -> None:
    without = """query($id: ID!) { patient(id: $id) { mrn } }"""
    base = await statements_for(portal, without, {"id": patient_gid("pat-0000001")})
    trend = await statements_for(portal, TREND, {"id": patient_gid("pat-0000001"), "code": A1C})
    assert trend == base + 1


# -- who may see them ----------------------------------------------------------------------
async def test_node_of_a_result_for_its_owner_but_not_for_a_stranger(portal: Portal) -> None:
    mine = await node_of(portal, "res-0000359")
    assert mine["data"]["node"]["name"] == "Vitamin D, 25-Hydroxy"

    stranger = await portal.gql(NODE, {"id": result_gid("res-0000359")}, as_user=ALEX)
    assert stranger["data"] == {"node": None}
    assert errors_of(stranger) == [("FORBIDDEN", "NOT_A_PATIENT")]
    unknown = await portal.gql(NODE, {"id": result_gid("res-9999999")}, as_user=ALEX)
    assert unknown["data"] == {"node": None}
    assert errors_of(unknown) == errors_of(stranger)


async def test_other_patients_results_are_forbidden(portal: Portal) -> None:
    result = await portal.gql(RESULTS, {"id": patient_gid(PATIENT)}, as_user=ALEX)
    assert result["data"] == {"patient": None}
    assert errors_of(result) == [("FORBIDDEN", "NOT_A_PATIENT")]


async def add_result(portal: Portal, patient_id: str, result_id: str) -> None:
    """A released glucose result with one high value."""
    resulted = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    async with portal.services.session() as session:
        await session.execute(
            insert(m.Result).values(
                id=result_id,
                patient_id=patient_id,
                ordering_provider_id="prv-00001",
                name="Glucose",
                code="2345-7",
                kind="lab",
                collected_at=resulted - timedelta(hours=3),
                resulted_at=resulted,
                status="final",
                released_at=resulted,
                provider_comment=None,
                report=None,
            )
        )
        await session.execute(
            insert(m.ResultComponent).values(
                result_id=result_id,
                patient_id=patient_id,
                position=0,
                loinc="2345-7",
                name="Glucose",
                value=131.0,
                value_text=None,
                unit="mg/dL",
                ref_low=70.0,
                ref_high=99.0,
            )
        )
        await session.commit()


async def add_results_scope(portal: Portal, patient_id: str, account_id: str) -> None:
    """Give the proxy's grants for the patient every scope, RESULTS included."""
    async with portal.services.session() as session:
        await session.execute(
            update(m.ProxyGrant)
            .where(
                m.ProxyGrant.patient_id == patient_id,
                m.ProxyGrant.proxy_account_id == account_id,
            )
            .values(scopes=[s.value for s in Scope])
        )
        await session.commit()


async def test_parent_sees_a_child_s_results_but_not_an_adolescent_s(fresh_portal: Portal) -> None:
    await add_result(fresh_portal, MIA, "res-mia-1")
    await add_result(fresh_portal, LEO, "res-leo-1")

    mia = await fresh_portal.gql(PATIENT_RESULTS_AND_TREND, {"id": patient_gid(MIA)}, as_user=ALEX)
    assert "errors" not in mia
    assert mia["data"]["patient"] == {
        "results": {
            "nodes": [
                {
                    "id": result_gid("res-mia-1"),
                    "components": [{"code": "2345-7", "value": 131.0, "flag": "HIGH"}],
                }
            ]
        },
        "resultTrend": [{"value": 131.0, "resultId": result_gid("res-mia-1")}],
    }

    # Alex's grant for Leo (14) was reissued without RESULTS at his 12th birthday: the age
    # rule is the reason given all the same (a wider grant would not open them).
    leo = await fresh_portal.gql(PATIENT_RESULTS_AND_TREND, {"id": patient_gid(LEO)}, as_user=ALEX)
    assert leo["data"]["patient"] == {"results": None, "resultTrend": None}
    assert errors_of(leo) == [("FORBIDDEN", "ADOLESCENT_CONFIDENTIAL")] * 2

    # Even a grant that names RESULTS does not open an adolescent's results to a parent.
    await add_results_scope(fresh_portal, LEO, ACCOUNT_IDS[ALEX])
    leo = await fresh_portal.gql(PATIENT_RESULTS_AND_TREND, {"id": patient_gid(LEO)}, as_user=ALEX)
    assert leo["data"]["patient"] == {"results": None, "resultTrend": None}
    assert errors_of(leo) == [("FORBIDDEN", "ADOLESCENT_CONFIDENTIAL")] * 2
    by_id = await fresh_portal.gql(NODE, {"id": result_gid("res-leo-1")}, as_user=ALEX)
    assert by_id["data"] == {"node": None}
    assert errors_of(by_id) == [("FORBIDDEN", "ADOLESCENT_CONFIDENTIAL")]

    # Leo himself sees them.
    own = await fresh_portal.gql(
        PATIENT_RESULTS_AND_TREND, {"id": patient_gid(LEO)}, as_user=LEO_ACCOUNT
    )
    assert [n["id"] for n in own["data"]["patient"]["results"]["nodes"]] == [
        result_gid("res-leo-1")
    ]


async def test_component_without_a_reference_range_carries_no_flag(fresh_portal: Portal) -> None:
    async with fresh_portal.services.session() as session:
        await session.execute(
            update(m.ResultComponent)
            .where(m.ResultComponent.result_id == "res-0000360")
            .values(ref_low=None, ref_high=None)
        )
        await session.commit()
    released = (await node_of(fresh_portal, "res-0000360"))["data"]["node"]
    assert [c["flag"] for c in released["components"]] == [None, None]
    assert all(c["value"] is not None for c in released["components"])


def test_a_reference_range_reads_as_people_write_it() -> None:
    from schema.results import ReferenceRange

    assert ReferenceRange.of(None, None) is None
    texts = [
        ReferenceRange.of(low, high) for low, high in ((4.0, 5.6), (None, 199.0), (60.0, None))
    ]
    assert [r.text() if r else None for r in texts] == ["4 - 5.6", "<= 199", ">= 60"]
