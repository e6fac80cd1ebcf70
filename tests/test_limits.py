"""Query limits: each has a request just under it that runs and one just over it that is
refused with its code, before anything runs (no SQL), never with a 5xx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from graphql import get_introspection_query

from portal.api import schema
from runtime.http_settings import HttpSettings, QueryLimits, http_settings_from_env
from tests.conftest import ALEX, Database, Portal, _portal, patient_gid
from tests.front import portal_on

LIMITS = QueryLimits(max_depth=5, max_fields=12, max_aliases=3)
BODY_LIMIT = 400


@pytest.fixture
async def limited(seeded_db: Database) -> AsyncIterator[Portal]:
    settings = HttpSettings(query=LIMITS, max_body_bytes=BODY_LIMIT)
    async for portal in _portal(seeded_db, http=settings):
        yield portal


@pytest.fixture
async def closed(seeded_db: Database) -> AsyncIterator[Portal]:
    """Introspection off, as in production."""
    async for portal in _portal(seeded_db, http=HttpSettings(introspection=False)):
        yield portal


JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


async def gql(
    portal: Portal,
    query: str,
    variables: dict[str, Any] | None = None,
    as_user: str = ALEX,
    accept: str = JSON,
    status: int = 200,
) -> tuple[dict[str, Any], int]:
    """The answer, and how many SQL statements it cost beyond authentication."""
    token = await portal.token(as_user)
    before = portal.statements
    response = await portal.client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"authorization": f"Bearer {token}", "accept": accept},
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(accept)
    auth = 1  # the account with its grants
    body: dict[str, Any] = response.json()
    return body, portal.statements - before - auth


# A refused operation did not run: with graphql-response+json that is a 400 without `data`;
# application/json clients get a 200 with `data: null`, as legacy clients expect.
MEDIA = pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE, 400)])


def refused(body: dict[str, Any], ran: int, code: str) -> dict[str, Any]:
    assert body.get("data") is None  # null, or absent with graphql-response+json
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, error
    assert ran == 0  # nothing was executed
    extensions: dict[str, Any] = error["extensions"]
    return extensions


def ok(body: dict[str, Any]) -> None:
    assert "errors" not in body, body["errors"]
    assert body["data"]


# -- depth -------------------------------------------------------------------------------
DEPTH_5 = "{ viewer { patients { patient { name { display } } } } }"
DEPTH_6 = "{ viewer { patients { patient { appointments { nodes { id } } } } } }"


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
async def test_depth_just_under_the_limit_runs(limited: Portal, accept: str) -> None:
    ok((await gql(limited, DEPTH_5, accept=accept))[0])


@MEDIA
async def test_depth_just_over_the_limit_is_refused(
    limited: Portal, accept: str, status: int
) -> None:
    body, ran = await gql(limited, DEPTH_6, accept=accept, status=status)
    assert ("data" in body) is (accept == JSON)
    extensions = refused(body, ran, "QUERY_TOO_DEEP")
    assert extensions["limit"] == 5


async def test_depth_counts_through_fragments(limited: Portal) -> None:
    query = (
        "{ viewer { patients { ...P } } } "
        "fragment P on PatientContext { patient { appointments { nodes { id } } } }"
    )
    refused(*await gql(limited, query), "QUERY_TOO_DEEP")


# -- fields and aliases --------------------------------------------------------------------
async def test_fields_just_under_the_limit_run(limited: Portal) -> None:
    ok((await gql(limited, "{ " + "__typename " * 12 + "}"))[0])


async def test_fields_just_over_the_limit_are_refused(limited: Portal) -> None:
    extensions = refused(*await gql(limited, "{ " + "__typename " * 13 + "}"), "TOO_MANY_FIELDS")
    assert extensions["limit"] == 12


async def test_fields_count_every_use_of_a_fragment(limited: Portal) -> None:
    query = "{ ...F ...F ...F } fragment F on Query { __typename __typename __typename __typename __typename }"  # noqa: E501
    refused(*await gql(limited, query), "TOO_MANY_FIELDS")  # 15 once expanded


def aliased(count: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(count)) + " }"


async def test_aliases_just_under_the_limit_run(limited: Portal) -> None:
    ok((await gql(limited, aliased(3)))[0])


@MEDIA
async def test_aliases_just_over_the_limit_are_refused(
    limited: Portal, accept: str, status: int
) -> None:
    refused(*await gql(limited, aliased(4), accept=accept, status=status), "TOO_MANY_ALIASES")


# -- cost ----------------------------------------------------------------------------------
# viewer (1) + inbox (1 + n x nodes (1 + id + subject)) = 2 + 3n: 23 at n = 7.
INBOX = "query Inbox($n: Int) { viewer { inbox(first: $n) { nodes { id subject } } } }"


@pytest.fixture
async def costly(seeded_db: Database) -> AsyncIterator[Portal]:
    async for portal in _portal(seeded_db, http=HttpSettings(query=QueryLimits(max_cost=23))):
        yield portal


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
async def test_cost_just_under_the_limit_runs(costly: Portal, accept: str) -> None:
    ok((await gql(costly, INBOX, {"n": 7}, accept=accept))[0])


@MEDIA
async def test_cost_just_over_the_limit_is_refused(
    costly: Portal, accept: str, status: int
) -> None:
    body, ran = await gql(costly, INBOX, {"n": 8}, accept=accept, status=status)
    assert ("data" in body) is (accept == JSON)
    extensions = refused(body, ran, "QUERY_TOO_COMPLEX")
    assert extensions == {"code": "QUERY_TOO_COMPLEX", "limit": 23, "cost": 26}


async def test_first_written_in_the_document_counts_too(costly: Portal) -> None:
    query = "{ viewer { inbox(first: 8) { nodes { id subject } } } }"
    assert refused(*await gql(costly, query), "QUERY_TOO_COMPLEX")["cost"] == 26


async def test_a_connection_without_first_costs_its_default_page(costly: Portal) -> None:
    query = "{ viewer { inbox { nodes { id subject } } } }"  # 20 per page
    assert refused(*await gql(costly, query), "QUERY_TOO_COMPLEX")["cost"] == 2 + 3 * 20


@pytest.mark.parametrize("n", [100, 100.0])  # graphql-core takes an integral float as an Int
async def test_nested_lists_multiply(portal: Portal, n: float) -> None:
    # viewer 1 + patients (1 + 10 assumed x (patient 1 + appointments (1 + n x (nodes 1 + 1))))
    query = """query Nested($n: Int) { viewer { patients { patient {
        appointments(first: $n) { nodes { id } } } } } }"""
    ok((await gql(portal, query, {"n": n}))[0])  # 2,022: well within the default
    settings = replace(portal.services.settings.http, query=QueryLimits(max_cost=2_021))
    async with portal_on(portal.services.settings.database_url, http=settings) as strict:
        extensions = refused(*await gql(strict, query, {"n": n}), "QUERY_TOO_COMPLEX")
        assert extensions["cost"] == 2 + 10 * (2 + 100 * 2)


@pytest.fixture
async def hundred(seeded_db: Database) -> AsyncIterator[Portal]:
    """A cost limit between the default page of INBOX (62) and a page of 100 (302)."""
    async for portal in _portal(seeded_db, http=HttpSettings(query=QueryLimits(max_cost=100))):
        yield portal


async def test_an_integral_float_first_costs_its_page_not_the_default(hundred: Portal) -> None:
    # graphql-core runs `first: 100.0` (a variable) as 100 items: it must cost 100 items.
    for n in (100.0, 100, 100.0):  # and the cost kept for one is right for the other
        extensions = refused(*await gql(hundred, INBOX, {"n": n}), "QUERY_TOO_COMPLEX")
        assert extensions["cost"] == 2 + 3 * 100


async def test_a_float_first_in_the_document_is_refused(hundred: Portal) -> None:
    query = "{ viewer { inbox(first: 100.0) { nodes { id subject } } } }"
    refused(*await gql(hundred, query), "GRAPHQL_VALIDATION_FAILED")


async def test_a_null_first_is_not_costed_as_an_absent_one_with_a_default(
    hundred: Portal,
) -> None:
    query = "query Inbox($n: Int = 100) { viewer { inbox(first: $n) { nodes { id subject } } } }"
    ok((await gql(hundred, query, {"n": None}))[0])  # null: the default page (62)
    # Absent, the variable's default (100) applies: not the cost kept for null.
    extensions = refused(*await gql(hundred, query, {}), "QUERY_TOO_COMPLEX")
    assert extensions["cost"] == 2 + 3 * 100


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((100.0, 100), [302, 302]),
        ((100, 100.0), [302, 302]),
        ((1, True), [5, 302]),  # True == 1 in Python, but is no Int: costed as the most
        ((1, "1"), [5, 302]),
        ((7, 7.5), [23, 302]),
        ((7, 2**40), [23, 302]),  # past 32 bits: graphql-core refuses it
        ((7, {"a": 1}), [23, 302]),
    ],
)
def test_cost_of_coerces_first_as_graphql_core_does(
    values: tuple[Any, Any], expected: list[int]
) -> None:
    from portal.graphql_documents import analyse
    from portal.limits import cost_of

    document = analyse(INBOX, 1_000)
    operation = document.operation(None)
    assert operation is not None
    limits = QueryLimits()
    costs = [cost_of(schema._schema, document, operation, {"n": v}, limits) for v in values]
    assert costs == expected


# -- first ---------------------------------------------------------------------------------
FIRST = """query Page($id: ID!, $n: Int) { viewer { account { username } }
  patient(id: $id) { results(first: $n) { nodes { id } } } }"""


async def test_first_at_the_cap_runs(portal: Portal) -> None:
    ok((await gql(portal, FIRST, {"id": patient_gid("pat-0000001"), "n": 100}))[0])


@pytest.mark.parametrize("n", [101, -1, 1_000_000])
async def test_first_past_the_cap_is_refused_by_its_field(portal: Portal, n: int) -> None:
    body, _ = await gql(portal, FIRST, {"id": patient_gid("pat-0000001"), "n": n})
    # The field answers null with BAD_USER_INPUT; the rest of the screen still answers.
    assert body["data"] == {"viewer": {"account": {"username": ALEX}}, "patient": {"results": None}}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["patient", "results"]


# -- tokens and body size --------------------------------------------------------------------
def typenames(count: int) -> str:
    return "{ " + " ".join(["__typename"] * count) + " }"  # count + 2 tokens


@pytest.mark.parametrize(("count", "runs"), [(38, True), (39, False)])
async def test_tokens_at_and_over_the_limit(portal: Portal, count: int, runs: bool) -> None:
    settings = HttpSettings(query=QueryLimits(max_tokens=40))
    async with portal_on(portal.services.settings.database_url, http=settings) as strict:
        body, ran = await gql(strict, typenames(count))
        if runs:
            ok(body)
        else:
            refused(body, ran, "GRAPHQL_PARSE_FAILED")
            assert "more than 40 tokens" in body["errors"][0]["message"]


def body_of(size: int) -> bytes:
    head, tail = b'{"query": "{ __typename }', b'"}'
    return head + b" " * (size - len(head) - len(tail)) + tail


async def test_a_body_at_the_size_limit_runs(limited: Portal) -> None:
    response = await limited.client.post(
        "/graphql", content=body_of(BODY_LIMIT), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_body_over_the_size_limit_is_413_before_parsing(limited: Portal) -> None:
    before = limited.statements
    response = await limited.client.post(
        "/graphql", content=body_of(BODY_LIMIT + 1), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert limited.statements == before


async def test_a_streamed_body_over_the_limit_is_413(limited: Portal) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        body = body_of(BODY_LIMIT * 3)
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    response = await limited.client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


def query_string_of(size: int) -> str:
    head = "query=%7B__typename%7D&pad="  # `{__typename}`; `pad` is not a parameter of ours
    return head + "x" * (size - len(head))


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
async def test_a_get_query_string_at_the_size_limit_runs(limited: Portal, accept: str) -> None:
    response = await limited.client.get(
        "/graphql?" + query_string_of(BODY_LIMIT), headers={"accept": accept}
    )
    assert len(response.request.url.query) == BODY_LIMIT
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
async def test_a_get_query_string_over_the_size_limit_is_414(limited: Portal, accept: str) -> None:
    before = limited.statements
    response = await limited.client.get(
        "/graphql?" + query_string_of(BODY_LIMIT + 1), headers={"accept": accept}
    )
    assert len(response.request.url.query) == BODY_LIMIT + 1
    assert response.status_code == 414
    assert response.headers["content-type"].startswith(accept)
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "URI_TOO_LONG"}
    assert f"larger than {BODY_LIMIT} bytes" in error["message"]
    assert limited.statements == before


async def test_huge_variables_are_413(portal: Portal) -> None:
    limit = portal.services.settings.http.max_body_bytes
    body = {"query": FIRST, "variables": {"n": 1, "pad": "x" * limit}}
    response = await portal.client.post("/graphql", json=body)
    assert response.status_code == 413


# -- introspection ---------------------------------------------------------------------------
def test_production_turns_introspection_off_unless_asked() -> None:
    assert http_settings_from_env({}, production=True).introspection is False
    opened = http_settings_from_env({"GRAPHQL_INTROSPECTION": "1"}, production=True)
    assert opened.introspection is True
    assert http_settings_from_env({}, production=False).introspection is True


@pytest.mark.parametrize(
    "query", ["{ __schema { queryType { name } } }", '{ __type(name: "Patient") { name } }']
)
async def test_introspection_is_refused_when_off(closed: Portal, query: str) -> None:
    refused(*await gql(closed, query), "INTROSPECTION_DISABLED")


async def test_typename_is_no_introspection(closed: Portal) -> None:
    ok((await gql(closed, "{ __typename viewer { __typename } }"))[0])


async def test_graphiqls_introspection_query_runs_under_the_default_limits(portal: Portal) -> None:
    body, _ = await gql(portal, get_introspection_query(descriptions=True))
    ok(body)
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


# Typos that graphql-core answers with "Did you mean ...?": a field, an argument, an input
# field and an enum value, in the document and in variables.
TYPOS = [
    ("{ viewr { __typename } }", None),
    ("{ viewer { acount { username } } }", None),
    ("{ providers(frist: 2) { nodes { name } } }", None),
    ("{ availableSlots(filter: {startAfter: null}) { nodes { id } } }", None),
    (
        "query S($f: SlotFilter!) { availableSlots(filter: $f) { nodes { id } } }",
        {"f": {"startAfter": "2026-12-01T00:00:00Z"}},
    ),
    (
        "query R($id: ID!, $k: HealthReadingKind!) "
        "{ patient(id: $id) { healthReadings(kind: $k) { nodes { id } } } }",
        {"id": patient_gid("pat-0000001"), "k": "BLOOD_GLUCOS"},
    ),
]


@pytest.mark.parametrize(("query", "variables"), TYPOS)
async def test_no_suggestions_when_introspection_is_off(
    portal: Portal, closed: Portal, query: str, variables: dict[str, Any] | None
) -> None:
    opened, _ = await gql(portal, query, variables)
    assert "Did you mean" in opened["errors"][0]["message"]  # the typo is one to suggest for
    body, ran = await gql(closed, query, variables)
    assert body["errors"]
    assert ran == 0
    for error in body["errors"]:
        assert "Did you mean" not in error["message"]
        assert error["extensions"]["code"] in ("GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT")


def type_lists(count: int) -> str:
    inner = "name"
    for _ in range(count):
        inner = f"fields {{ type {{ {inner} }} }}"
    return "{ __schema { types { " + inner + " } } }"


async def test_introspection_nesting_just_under_the_limit_runs(portal: Portal) -> None:
    ok((await gql(portal, type_lists(2)))[0])


async def test_introspection_nesting_just_over_the_limit_is_refused(portal: Portal) -> None:
    # graphql-core's MaxIntrospectionDepthRule: each nested type list multiplies the answer.
    body, ran = await gql(portal, type_lists(3))
    assert refused(body, ran, "GRAPHQL_VALIDATION_FAILED")
    assert body["errors"][0]["message"] == "Maximum introspection depth exceeded"


# -- the same limits outside HTTP (the WebSocket transport executes through the schema) -----
def deep(levels: int) -> str:
    return "{ " + " { ".join(f"f{i}" for i in range(levels)) + " }" * levels


async def test_limits_apply_to_every_execution_not_only_http() -> None:
    result = await schema.execute(deep(13))
    assert result.errors is not None
    assert [e.extensions["code"] for e in result.errors if e.extensions] == ["QUERY_TOO_DEEP"]
    invalid = await schema.execute(deep(12))  # within the depth: validation speaks
    assert invalid.errors is not None
    assert invalid.errors[0].extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}


def test_limit_checks_are_bounded_for_fragment_explosions() -> None:
    from portal.graphql_documents import analyse

    # Each fragment spreads the next twice: 2**30 fields once expanded, measured instantly.
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
    document = analyse("{ ...F0 } " + fragments + " fragment F30 on Query { __typename }", 10**6)
    operation = document.operation(None)
    assert operation is not None
    assert operation.shape.fields == 2**30
