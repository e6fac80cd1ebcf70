"""No N+1: the home dashboard costs the same number of SQL statements whatever the size of
its lists (DESIGN section 8). Each list is loaded for all its parents in one statement."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from persistence import together
from tests.api.builders import add_patient_with_lists
from tests.conftest import Portal, patient_gid

DASHBOARD = """
query Dashboard($id: ID!, $n: Int!) {
  patient(id: $id) {
    name { display }
    appointments(when: UPCOMING, first: $n) {
      edges { node { id startsAt status canCancel canCheckIn
                     provider { name specialty } department { name phone } } }
    }
    results(first: $n) {
      edges { node { id name releaseStatus
                     components { code value unit flag referenceRange { low high } } } }
    }
    messageThreads(first: $n) {
      edges { node { id subject unreadCount
                     messages(first: 1) { edges { node { body sentAt sender { name } } } } } }
    }
    unreadMessageCount
    statements(status: OPEN, first: $n) {
      edges { node { id amountDue { formatted }
                     lineItems { description patientResponsibility { amountCents } } } }
    }
    balance { formatted }
  }
}
"""

# What the dashboard costs, measured: 1 to authenticate (the account with its grants and
# the rows of its patients, so `patient` costs none), and one per list whatever its length:
# appointments (with their providers and departments), results (with their components and
# hold preferences), threads (with how far the viewer read each and their latest messages:
# the query asks one page size of them, schema/lookahead.py), unread per patient, unread
# per thread, open statements (with what was paid on each and their line items), balance;
# and 1 to write the audit of what it read (before the response leaves). On PostgreSQL the
# count includes transaction control (BEGIN, COMMIT, ROLLBACK: none, the request reads in
# autocommit on one connection), and the batches dispatched together whose loaders plan
# their reads are one statement (loaders/base.py, persistence/together.py): the lists,
# unread per patient and balance in one, so 1 + 1 + unread per thread + the audit. A change
# that makes this grow is a regression to look at.
DASHBOARD_STATEMENTS = {"sqlite": 9, "postgresql": 4}


# The query asks for each kind of related object from one place only: a provider reached both
# from appointments and from threads may be fetched in two batches when the lists come back
# at different moments (bounded by the shape, not the rows, but not a fixed number).


async def _dashboard(portal: Portal, patient_id: str, account_id: str) -> tuple[Any, int]:
    token = await portal.token_for_account(account_id)
    before = portal.statements
    result = await portal.gql(DASHBOARD, {"id": patient_gid(patient_id), "n": 100}, token=token)
    assert "errors" not in result, result["errors"]
    return result["data"]["patient"], portal.statements - before


def _backend(portal: Portal) -> str:
    return portal.services.engine.dialect.name


def _sizes(patient: Any) -> list[int]:
    return [
        len(patient["appointments"]["edges"]),
        len(patient["results"]["edges"]),
        len(patient["messageThreads"]["edges"]),
        len(patient["statements"]["edges"]),
    ]


async def test_the_dashboard_costs_the_same_for_1_and_100_items(fresh_portal: Portal) -> None:
    small = await add_patient_with_lists(fresh_portal, "small", 1)
    large = await add_patient_with_lists(fresh_portal, "large", 100)

    small_patient, small_count = await _dashboard(fresh_portal, *small)
    large_patient, large_count = await _dashboard(fresh_portal, *large)

    assert _sizes(small_patient) == [1, 1, 1, 1]
    assert _sizes(large_patient) == [100, 100, 100, 100]
    # Nested lists were really loaded for every item of the large one.
    results = large_patient["results"]["edges"]
    assert all(len(edge["node"]["components"]) == 2 for edge in results)
    threads = large_patient["messageThreads"]["edges"]
    assert all(len(edge["node"]["messages"]["edges"]) == 1 for edge in threads)
    statements = large_patient["statements"]["edges"]
    assert all(len(edge["node"]["lineItems"]) == 2 for edge in statements)

    assert small_count == large_count
    expected = DASHBOARD_STATEMENTS[_backend(fresh_portal)]
    assert large_count == expected, f"the dashboard took {large_count} statements"


@pytest.mark.parametrize("n", [1, 100])
async def test_the_count_does_not_depend_on_the_order_of_requests(
    fresh_portal: Portal, n: int
) -> None:
    """A cold first request costs the same as a later one: nothing is cached across requests."""
    built = await add_patient_with_lists(fresh_portal, f"p{n}", n)
    _, first = await _dashboard(fresh_portal, *built)
    _, second = await _dashboard(fresh_portal, *built)
    assert first == second == DASHBOARD_STATEMENTS[_backend(fresh_portal)]


async def test_a_request_authenticates_and_reads_on_one_connection(fresh_portal: Portal) -> None:
    """The token is checked on the connection the operation then reads and audits on: one
    checkout per request, not one for authentication and one for the rest (on SQLite, where
    each batch had a short session of its own: not one per batch either)."""
    engine = fresh_portal.services.engine
    patient_id, account_id = await add_patient_with_lists(fresh_portal, "one", 3)
    token = await fresh_portal.token_for_account(account_id)
    checkouts = 0

    def checkout(*_args: Any) -> None:
        nonlocal checkouts
        checkouts += 1

    event.listen(engine.sync_engine, "checkout", checkout)
    try:
        variables = {"id": patient_gid(patient_id), "n": 3}
        result = await fresh_portal.gql(DASHBOARD, variables, token=token)
    finally:
        event.remove(engine.sync_engine, "checkout", checkout)
    assert "errors" not in result
    assert checkouts == 1


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"accept": "text/plain"}, {"query": "{ viewer { account { id } } }"}),  # 406
        ({}, "not json"),  # 400 before any operation
    ],
)
async def test_a_request_refused_before_its_operation_gives_its_connection_back(
    fresh_portal: Portal, headers: dict[str, str], body: Any
) -> None:
    built = await add_patient_with_lists(fresh_portal, "refused", 1)
    token = await fresh_portal.token_for_account(built[1])
    gate = fresh_portal.services.request_gate
    free = gate._free
    sent = {"json": body} if isinstance(body, dict) else {"content": body}
    response = await fresh_portal.client.post(
        "/graphql",
        headers={"authorization": f"Bearer {token}", "content-type": "application/json", **headers},
        **sent,
    )
    assert response.status_code in (400, 406)
    assert fresh_portal.services.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert gate._free == free
    # And the next request is served as usual.
    patient, _ = await _dashboard(fresh_portal, *built)
    assert _sizes(patient) == [1, 1, 1, 1]


# The peer benchmark's dashboard (its lists only: no unread counts, no balance).
LISTS = """
query Lists($id: ID!, $n: Int!) {
  patient(id: $id) {
    id
    appointments(when: UPCOMING, first: $n) {
      nodes { id startsAt durationMinutes visitType status telehealth questionnaireComplete
              provider { id name } department { id name } }
    }
    results(first: $n) {
      nodes { id name code kind status collectedAt resultedAt releaseStatus releasedAt
              providerComment report
              components { code name value unit referenceRange { low high } flag } }
    }
    messageThreads(first: $n) {
      nodes { id subject category lastMessageAt
              messages(first: 3) { nodes { id sender { kind name } body sentAt readByMe } } }
    }
    statements(status: OPEN, first: $n) {
      nodes { id accountNumber statementDate dueDate amountDue { amountCents }
              lineItems { serviceDate description code charge { amountCents }
                          insurancePaid { amountCents } adjustment { amountCents }
                          patientResponsibility { amountCents } } }
    }
  }
}
"""


@pytest.mark.parametrize("n", [0, 2, 100])
async def test_the_dashboard_lists_are_one_statement_on_postgresql(
    fresh_portal: Portal, n: int
) -> None:
    """On PostgreSQL the four lists (each with what it loads along: providers, components,
    latest messages, line items) are read in one statement: the request is the principal,
    that statement and the audit INSERT. The answer is the one the four statements gave
    (persistence.together turned off), empty lists included. On SQLite: one per list."""
    patient_id, account_id = await add_patient_with_lists(fresh_portal, f"lists{n}", max(n, 1))
    token = await fresh_portal.token_for_account(account_id)
    variables = {"id": patient_gid(patient_id), "n": n}
    answers = {}
    counts = {}
    for combined in (True, False):
        before, together.ENABLED = together.ENABLED, combined
        try:
            start = fresh_portal.statements
            answers[combined] = await fresh_portal.gql(LISTS, variables, token=token)
            counts[combined] = fresh_portal.statements - start
        finally:
            together.ENABLED = before
    assert "errors" not in answers[True], answers[True]["errors"]
    assert answers[True] == answers[False]
    patient = answers[True]["data"]["patient"]
    sizes = [len(patient[name]["nodes"]) for name in LIST_NAMES]
    assert sizes == [n, n, n, n]
    if _backend(fresh_portal) == "postgresql":
        assert counts == {True: 3, False: 6}
    else:
        assert counts == {True: 6, False: 6}


LIST_NAMES = ("appointments", "results", "messageThreads", "statements")
