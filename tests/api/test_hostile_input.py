"""Input an attacker (or a broken client) sends, through the real HTTP app on SQLite and
PostgreSQL: each is refused with a typed error at its field, nothing runs that should not,
and nothing of ours (traceback, SQL, path) reaches the client, nor an ERROR in the log."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from schema import NODE_TYPES
from tests.conftest import ALEX, Portal, errors_of, patient_gid

ALEX_ID = "pat-0000001"

# Every paged field: (the field's path under the query, its selection with $first/$after).
PAGED = {
    "appointments": "patient(id: $p) { appointments(first: 5, after: $a) { nodes { id } } }",
    "results": "patient(id: $p) { results(first: 5, after: $a) { nodes { id } } }",
    "messageThreads": "patient(id: $p) { messageThreads(first: 5, after: $a) { nodes { id } } }",
    "clinicalNotes": "patient(id: $p) { clinicalNotes(first: 5, after: $a) { nodes { id } } }",
    "statements": "patient(id: $p) { statements(first: 5, after: $a) { nodes { id } } }",
    "healthReadings": (
        "patient(id: $p) { healthReadings(kind: WEIGHT, first: 5, after: $a) { nodes { id } } }"
    ),
    "accessLog": "patient(id: $p) { accessLog(first: 5, after: $a) { nodes { __typename } } }",
    "providers": "providers(first: 5, after: $a) { nodes { id } }",
    "inbox": "viewer { inbox(first: 5, after: $a) { nodes { id } } }",
    "notifications": "viewer { notifications(first: 5, after: $a) { nodes { id } } }",
}


def cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


FORGED_CURSORS = {
    "nul in text": cursor(["2026-11-22T12:00:00+00:00", "\u0000"]),
    "nul in a date's text": cursor(["2026-11-22", "a\u0000"]),
    "nul in both": cursor(["\u0000", "\u0000"]),
    "year 1 east of UTC": cursor(["0001-01-01T00:00:00+14:00", "x"]),
    "year 9999 west of UTC": cursor(["9999-12-31T23:59:59-14:00", "x"]),
    "integer past 64 bits": cursor(["2026-11-22T12:00:00+00:00", 2**63]),
    "huge negative integer": cursor(["2026-11-22T12:00:00+00:00", -(10**30)]),
    "boolean for a number": cursor(["2026-11-22T12:00:00+00:00", True]),
    "nested past the parser": base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode(),
}


async def post(portal: Portal, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    token = await portal.token(ALEX)
    response = await portal.client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    assert "INTERNAL_SERVER_ERROR" not in response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("forged", list(FORGED_CURSORS))
async def test_a_forged_cursor_is_bad_user_input_on_every_paged_field(
    portal: Portal, caplog: pytest.LogCaptureFixture, forged: str
) -> None:
    fields = " ".join(f"{name}: {selection}" for name, selection in PAGED.items())
    query = f"query Paged($p: ID!, $a: String) {{ {fields} }}"
    body = await post(portal, query, {"p": patient_gid(ALEX_ID), "a": FORGED_CURSORS[forged]})
    refused = [e["path"][0] for e in body["errors"]]
    # A time at year 1 or 9999 is fine text to the provider list, sorted by (name, id).
    takes_text = {"providers"} if forged.startswith("year") else set()
    assert refused == [name for name in PAGED if name not in takes_text], body
    assert {code for code, _ in errors_of(body)} == {"BAD_USER_INPUT"}
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def gid(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


NODE_QUERY = "query N($id: ID!) { node(id: $id) { id } }"
PATIENT_QUERY = "query P($id: ID!) { patient(id: $id) { id } }"
CANCEL = """
mutation C($input: CancelAppointmentInput!) {
  cancelAppointment(input: $input) { errors { code } }
}
"""


@pytest.mark.parametrize("type_name", sorted(t.__name__ for t in NODE_TYPES))
@pytest.mark.parametrize("inner", ["\u0000", "pat-0000001\u0000", "a\u0000b"])
async def test_an_id_holding_nul_is_not_a_valid_id(
    portal: Portal, caplog: pytest.LogCaptureFixture, type_name: str, inner: str
) -> None:
    """PostgreSQL refuses NUL in text: such an id was an INTERNAL_SERVER_ERROR and, for a
    patient, left an audit entry of the refused read that no write could ever store."""
    forged = gid(f"{type_name}:{inner}")
    body = await post(portal, NODE_QUERY, {"id": forged})
    assert errors_of(body) == [("BAD_USER_INPUT", None)], body
    if type_name == "Patient":
        body = await post(portal, PATIENT_QUERY, {"id": forged})
        assert errors_of(body) == [("BAD_USER_INPUT", None)], body
    assert portal.services.audit.pending == 0  # no entry queued after a failed write
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_a_mutation_given_an_id_holding_nul_changes_nothing(
    fresh_portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    body = await post(fresh_portal, CANCEL, {"input": {"appointmentId": gid("Appointment:\u0000")}})
    assert body == {"data": {"cancelAppointment": {"errors": [{"code": "INVALID_ID"}]}}}
    assert fresh_portal.services.audit.pending == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


NUL_REFUSED = [("BAD_USER_INPUT", None)]
SIGN_IN = """
mutation S($input: SignInInput!) { signIn(input: $input) { accessToken errors { code } } }
"""
SEND = """
mutation M($input: SendMessageInput!) {
  sendMessage(input: $input) { message { id } errors { code } }
}
"""
THREADS = "query T($p: ID!) { patient(id: $p) { messageThreads(first: 100) { nodes { id } } } }"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (SIGN_IN, {"input": {"username": "alex.rivera\u0000", "password": "x"}}),
        (SIGN_IN, {"input": {"username": "alex.rivera", "password": "\u0000"}}),
        ('mutation { signIn(input: {username: "a\\u0000", password: "x"}) { accessToken } }', {}),
        ('mutation { signIn(input: {username: "a\\u{0}", password: "x"}) { accessToken } }', {}),
        ("query Q($s: String) { providers(search: $s) { nodes { id } } }", {"s": "\u0000"}),
        ('query { providers(search: "Dr\\u0000") { nodes { id } } }', {}),
    ],
)
async def test_text_holding_nul_is_refused_before_anything_runs(
    portal: Portal, caplog: pytest.LogCaptureFixture, query: str, variables: dict[str, Any]
) -> None:
    before = portal.statements
    response = await portal.client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    assert errors_of(body) == NUL_REFUSED, body
    assert "NUL" in body["errors"][0]["message"]
    assert portal.statements == before
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_a_get_with_nul_in_its_variables_is_refused(portal: Portal) -> None:
    params = {"query": "query Q($s: String) { providers(search: $s) { nodes { id } } }"}
    params["variables"] = json.dumps({"s": "a\u0000"})
    response = await portal.client.get(
        "/graphql", params=params, headers={"accept": "application/graphql-response+json"}
    )
    assert response.status_code == 400, response.text
    assert errors_of(response.json()) == NUL_REFUSED


async def test_a_message_holding_nul_is_refused_and_nothing_is_sent(
    fresh_portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    threads = await post(fresh_portal, THREADS, {"p": patient_gid(ALEX_ID)})
    message = {"patientId": patient_gid(ALEX_ID), "subject": "Refill", "body": "hello\u0000"}
    body = await post(fresh_portal, SEND, {"input": {**message, "category": "MEDICAL_QUESTION"}})
    assert body["data"] is None
    assert errors_of(body) == NUL_REFUSED, body
    assert await post(fresh_portal, THREADS, {"p": patient_gid(ALEX_ID)}) == threads
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_a_provider_search_past_any_name_is_bad_user_input(
    portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite refuses a LIKE pattern past 50,000 bytes: such a search was a 500 there."""
    query = "query P($s: String) { providers(search: $s, first: 3) { nodes { id } } }"
    body = await post(portal, query, {"s": "x" * 100_000})
    assert body["data"] == {"providers": None}
    assert errors_of(body) == [("BAD_USER_INPUT", None)]
    assert "at most 200" in body["errors"][0]["message"]
    body = await post(portal, query, {"s": "x" * 200})
    assert body == {"data": {"providers": {"nodes": []}}}
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_a_slot_visit_type_past_any_name_is_bad_user_input(
    portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    """The visit type is matched with LIKE: as with a provider search, SQLite's limit."""
    query = "query S($f: SlotFilter!) { availableSlots(filter: $f, first: 3) { nodes { id } } }"
    body = await post(portal, query, {"f": {"visitType": "x" * 100_000}})
    assert body["data"] == {"availableSlots": None}
    assert errors_of(body) == [("BAD_USER_INPUT", None)]
    assert "at most 100" in body["errors"][0]["message"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_wildcards_in_a_search_are_the_texts_own_characters(portal: Portal) -> None:
    """`%` and `_` in a provider search or a slot's visit type match themselves, not any
    text: "%" finds no provider (no name holds one), where it once listed them all."""
    providers = "query P($s: String) { providers(search: $s, first: 50) { nodes { id } } }"
    everyone = await post(portal, providers, {"s": None})
    assert everyone["data"]["providers"]["nodes"]
    for wildcard in ("%", "_", "%_%"):
        body = await post(portal, providers, {"s": wildcard})
        assert body == {"data": {"providers": {"nodes": []}}}, wildcard
    slots = "query S($f: SlotFilter!) { availableSlots(filter: $f, first: 5) { nodes { id } } }"
    assert (await post(portal, slots, {"f": {}}))["data"]["availableSlots"]["nodes"]
    body = await post(portal, slots, {"f": {"visitType": "%"}})
    assert body == {"data": {"availableSlots": {"nodes": []}}}
