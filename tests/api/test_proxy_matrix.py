"""The proxy matrix: every demo family, every record area, through every path.

For each (viewer, patient) pair of the showcase families, each area's fields are read
through `patient(id)`, `node(id) { ... on Patient }` and `viewer.patients[].patient`, and
each of the patient's objects through `node(id)`. An allowed read returns data and no
error; a refused one returns null, and exactly one FORBIDDEN error naming its reason at
that path. The expectations are written out here, not derived from the policy code.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from persistence import models as m
from schema.base import to_global_id
from tests.conftest import (
    ALEX,
    DANIEL,
    GRACE,
    JORDAN,
    LEO_ACCOUNT,
    NOW,
    SUSAN,
    Portal,
    patient_gid,
)

ALEX_PT, JORDAN_PT, MIA, LEO, MARGARET, SUSAN_PT, ADA = (f"pat-000000{i}" for i in range(1, 8))

# One field (GraphQL selection) per area, each a different resolver path.
AREA_FIELDS: dict[str, list[str]] = {
    "APPOINTMENTS": [
        "appointments(when: PAST, first: 3) { edges { node { id } } }",
        "careTeam { id }",
    ],
    "RESULTS": [
        "results(first: 3) { edges { node { id } } }",
        'resultTrend(code: "2093-3") { value }',
    ],
    "MESSAGES": ["messageThreads(first: 3) { edges { node { id } } }", "unreadMessageCount"],
    "BILLING": ["statements(first: 3) { edges { node { id } } }", "balance { amountCents }"],
    "MEDICATIONS": ["medications { id }"],
    "PROBLEMS": ["problems { id }"],
    "ALLERGIES": ["allergies { id }"],
    "IMMUNIZATIONS": ["immunizations { id }"],
    "CLINICAL_NOTES": ["clinicalNotes(first: 3) { edges { node { id } } }"],
    "HEALTH_MAINTENANCE": ["healthMaintenance { topicId }"],
    "SELF": ["proxyGrants { id }", "accessLog(first: 1) { edges { node { action } } }"],
}
EVERY_AREA = frozenset(AREA_FIELDS) - {"SELF"}
OWN = EVERY_AREA | {"SELF"}
ADOLESCENT_OPEN = frozenset({"APPOINTMENTS", "BILLING", "ALLERGIES", "IMMUNIZATIONS"})

# (viewer, patient, areas that return data); every other area is FORBIDDEN for the reason
# given by `withheld_reason`.
VISIBLE: list[tuple[str, str, frozenset[str]]] = [
    (ALEX, ALEX_PT, OWN),
    (ALEX, MIA, EVERY_AREA),
    (ALEX, LEO, ADOLESCENT_OPEN),
    (JORDAN, JORDAN_PT, OWN),
    (JORDAN, MIA, EVERY_AREA),
    (JORDAN, LEO, ADOLESCENT_OPEN),
    (LEO_ACCOUNT, LEO, OWN),
    (SUSAN, SUSAN_PT, OWN),
    (SUSAN, MARGARET, EVERY_AREA),
    (GRACE, ADA, EVERY_AREA),
]

# (viewer, patient, reasons accepted): not a patient the viewer may act for at all.
REFUSED: list[tuple[str, str, set[str]]] = [
    (JORDAN, ALEX_PT, {"GRANT_NOT_ACTIVE"}),  # the spouse grant Alex gave was revoked
    (ALEX, JORDAN_PT, {"GRANT_NOT_ACTIVE"}),  # the one Jordan gave is still pending
    # expired and pending: the newest grant (the pending one) says why
    (DANIEL, MARGARET, {"GRANT_NOT_ACTIVE"}),
    (LEO_ACCOUNT, MIA, {"NOT_A_PATIENT"}),  # a sibling is not a proxy
    (LEO_ACCOUNT, ALEX_PT, {"NOT_A_PATIENT"}),
    (SUSAN, ADA, {"NOT_A_PATIENT"}),
    (GRACE, MIA, {"NOT_A_PATIENT"}),
]

# The objects reachable by node(id), by the area that guards them.
OBJECTS: dict[str, str] = {
    "APPOINTMENTS": "appointments(when: PAST, first: 2) { edges { node { id } } }",
    "RESULTS": "results(first: 2) { edges { node { id } } }",
    "MESSAGES": """messageThreads(first: 2) { edges { node { id
                     messages(first: 1) { edges { node { id } } } } } }""",
    "BILLING": "statements(first: 2) { edges { node { id } } }",
    "MEDICATIONS": "medications { id }",
    "PROBLEMS": "problems { id }",
    "ALLERGIES": "allergies { id }",
    "IMMUNIZATIONS": "immunizations { id }",
    "CLINICAL_NOTES": "clinicalNotes(first: 2) { edges { node { id } } }",
}


def withheld_reason(viewer: str, patient: str, area: str) -> str:
    if area == "SELF":
        return "SELF_ONLY"
    if patient == LEO:
        return "ADOLESCENT_CONFIDENTIAL"
    raise AssertionError(f"{viewer} should see {area} of {patient}")


def _field_name(selection: str) -> str:
    return selection.split("(")[0].split("{")[0].strip()


def _every_selection() -> list[tuple[str, str]]:
    return [(area, sel) for area, sels in AREA_FIELDS.items() for sel in sels]


def _errors_by_path(result: dict[str, Any]) -> dict[tuple[Any, ...], dict[str, Any]]:
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    for error in result.get("errors", []):
        path = tuple(error["path"])
        assert path not in found, f"two errors at {path}"
        found[path] = error
    return found


def _check_patient(
    viewer: str,
    patient_id: str,
    visible: frozenset[str],
    data: dict[str, Any] | None,
    errors: dict[tuple[Any, ...], dict[str, Any]],
    prefix: tuple[Any, ...],
) -> None:
    assert data is not None, f"{viewer} -> {patient_id}: the patient itself is visible"
    for area, selection in _every_selection():
        name = _field_name(selection)
        where = f"{viewer} -> {patient_id} {name}"
        error = errors.pop((*prefix, name), None)
        if area in visible:
            assert error is None, f"{where}: {error}"
            assert data[name] is not None, where
        else:
            assert data[name] is None, f"{where} leaked {data[name]}"
            assert error is not None, f"{where}: withheld without saying why"
            assert error["extensions"]["code"] == "FORBIDDEN", where
            assert error["extensions"]["reason"] == withheld_reason(viewer, patient_id, area)
    assert errors == {}, f"{viewer} -> {patient_id}: unexpected errors {errors}"


def _patient_query(root: str) -> str:
    fields = "\n".join(sel for _, sel in _every_selection())
    return root.replace("FIELDS", f"id {fields}")


BY_PATIENT = _patient_query("query($id: ID!) { patient(id: $id) { FIELDS } }")
BY_NODE = _patient_query("query($id: ID!) { node(id: $id) { ... on Patient { FIELDS } } }")
NESTED = _patient_query("{ viewer { patients { patient { FIELDS } } } }")


@pytest.mark.parametrize(("viewer", "patient_id", "visible"), VISIBLE)
async def test_each_area_through_patient_and_node(
    portal: Portal, viewer: str, patient_id: str, visible: frozenset[str]
) -> None:
    for query, root in ((BY_PATIENT, "patient"), (BY_NODE, "node")):
        result = await portal.gql(query, {"id": patient_gid(patient_id)}, as_user=viewer)
        data = result["data"][root]
        _check_patient(viewer, patient_id, visible, data, _errors_by_path(result), (root,))


@pytest.mark.parametrize("viewer", [ALEX, JORDAN, LEO_ACCOUNT, SUSAN, GRACE, DANIEL])
async def test_each_area_through_the_viewers_patient_list(portal: Portal, viewer: str) -> None:
    result = await portal.gql(NESTED, as_user=viewer)
    errors = _errors_by_path(result)
    contexts = result["data"]["viewer"]["patients"]
    expected = {p: v for who, p, v in VISIBLE if who == viewer}
    listed = [patient_gid(pid) for pid in expected]
    assert sorted(c["patient"]["id"] for c in contexts) == sorted(listed)
    for index, context in enumerate(contexts):
        patient_id = next(p for p in expected if patient_gid(p) == context["patient"]["id"])
        mine = {
            path: e
            for path, e in errors.items()
            if path[:4] == ("viewer", "patients", index, "patient")
        }
        for path in mine:
            errors.pop(path)
        prefix = ("viewer", "patients", index, "patient")
        _check_patient(viewer, patient_id, expected[patient_id], context["patient"], mine, prefix)
    assert errors == {}


@pytest.mark.parametrize(("viewer", "patient_id", "reasons"), REFUSED)
async def test_a_patient_not_theirs_is_refused_whole(
    portal: Portal, viewer: str, patient_id: str, reasons: set[str]
) -> None:
    for query, root in ((BY_PATIENT, "patient"), (BY_NODE, "node")):
        result = await portal.gql(query, {"id": patient_gid(patient_id)}, as_user=viewer)
        assert result["data"] == {root: None}
        [error] = result["errors"]
        assert error["path"] == [root]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["extensions"]["reason"] in reasons


# -- each object through node(id) --------------------------------------------------------
def _ids(value: Any) -> list[str]:
    """Every `id` in a response fragment."""
    if isinstance(value, dict):
        found = [value["id"]] if isinstance(value.get("id"), str) else []
        return found + [i for v in value.values() for i in _ids(v)]
    if isinstance(value, list):
        return [i for v in value for i in _ids(v)]
    return []


async def _objects_of(portal: Portal, patient_id: str) -> dict[str, list[str]]:
    """The ids of the patient's objects per area, read by someone who sees every area."""
    reader = next(v for v, p, areas in VISIBLE if p == patient_id and areas >= EVERY_AREA)
    selections = "\n".join(OBJECTS.values())
    query = "query($id: ID!) { patient(id: $id) { " + selections + " } }"
    result = await portal.gql(query, {"id": patient_gid(patient_id)}, as_user=reader)
    assert "errors" not in result
    patient = result["data"]["patient"]
    return {area: _ids(patient[_field_name(sel)]) for area, sel in OBJECTS.items()}


NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


@pytest.mark.parametrize("patient_id", [ALEX_PT, MIA, LEO, MARGARET, ADA])
async def test_each_object_through_node(portal: Portal, patient_id: str) -> None:
    objects = await _objects_of(portal, patient_id)
    assert sum(1 for ids in objects.values() if ids) >= 3, objects
    viewers = [(v, areas) for v, p, areas in VISIBLE if p == patient_id]
    viewers += [(v, frozenset()) for v, p, _ in REFUSED if p == patient_id]
    for viewer, visible in viewers:
        for area, ids in objects.items():
            for object_id in ids:
                result = await portal.gql(NODE, {"id": object_id}, as_user=viewer)
                where = f"{viewer} -> {area} {object_id}"
                if area in visible:
                    assert "errors" not in result, where
                    assert result["data"]["node"]["id"] == object_id, where
                else:
                    assert result["data"] == {"node": None}, where
                    [error] = result["errors"]
                    assert error["extensions"]["code"] == "FORBIDDEN", where


async def test_the_objects_cover_every_area(portal: Portal) -> None:
    """Across the showcase patients there is an object of every area to try node(id) on."""
    covered: set[str] = set()
    for patient_id in (ALEX_PT, MIA, LEO, MARGARET, ADA):
        objects = await _objects_of(portal, patient_id)
        covered |= {area for area, ids in objects.items() if ids}
    assert covered == set(OBJECTS)


async def _give_leo_a_result_and_a_reply(portal: Portal) -> None:
    """Whatever the random data gave him: a released result and a provider's reply."""
    released = NOW - timedelta(days=1)
    async with portal.services.session() as session, session.begin():
        await session.execute(
            insert(m.Result),
            [
                {
                    "id": "res-leo-test",
                    "patient_id": LEO,
                    "ordering_provider_id": None,
                    "name": "Chlamydia trachomatis NAA",
                    "code": "43304-5",
                    "kind": "lab",
                    "collected_at": released,
                    "resulted_at": released,
                    "status": "final",
                    "released_at": released,
                    "provider_comment": None,
                    "report": None,
                }
            ],
        )
        await session.execute(
            insert(m.MessageThread),
            [
                {
                    "id": "thr-leo-test",
                    "patient_id": LEO,
                    "subject": "Your question",
                    "category": "medical_question",
                    "provider_id": None,
                    "care_team": "Adolescent Medicine",
                    "created_at": released,
                    "last_message_at": released,
                }
            ],
        )
        await session.execute(
            insert(m.Message),
            [
                {
                    "id": "msg-leo-test",
                    "thread_id": "thr-leo-test",
                    "sender_kind": "provider",
                    "sender_id": None,
                    "sender_name": "Dr. Test",
                    "body": "Confidential answer",
                    "sent_at": released,
                }
            ],
        )


async def test_adolescent_results_and_messages_never_reach_a_parent(fresh_portal: Portal) -> None:
    """The headline rule, end to end: nothing of Leo's results or messages, by any path."""
    portal = fresh_portal
    await _give_leo_a_result_and_a_reply(portal)
    objects = await _objects_of(portal, LEO)
    assert to_global_id("Result", "res-leo-test") in objects["RESULTS"]
    assert to_global_id("Message", "msg-leo-test") in objects["MESSAGES"]
    for parent in (ALEX, JORDAN):
        inbox = await portal.gql(
            "{ viewer { inbox(first: 100) { edges { node { id patient { id } } } } } }",
            as_user=parent,
        )
        threads = inbox["data"]["viewer"]["inbox"]["edges"]
        assert all(t["node"]["patient"]["id"] != patient_gid(LEO) for t in threads)
        trend = await portal.gql(
            'query($id: ID!) { patient(id: $id) { resultTrend(code: "43304-5") { value } } }',
            {"id": patient_gid(LEO)},
            as_user=parent,
        )
        assert trend["data"]["patient"]["resultTrend"] is None
        for object_id in objects["RESULTS"] + objects["MESSAGES"]:
            result = await portal.gql(NODE, {"id": object_id}, as_user=parent)
            assert result["data"] == {"node": None}
            assert result["errors"][0]["extensions"]["reason"] == "ADOLESCENT_CONFIDENTIAL"
