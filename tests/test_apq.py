"""Automatic persisted queries through real HTTP: hash only -> PersistedQueryNotFound; hash
and document -> registered and run; hash only -> runs. In process, and through Redis."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portal.http import GRAPHQL_RESPONSE, JSON
from runtime.http_settings import HttpSettings
from tests.conftest import ALEX, Database, Portal, make_database
from tests.front import portal_on
from tests.realtime.harness import Server

QUERY = "query Me { viewer { account { username } } }"
ME = {"data": {"viewer": {"account": {"username": ALEX}}}}


def digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted(query: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest(query)}}


async def post(
    portal: Portal,
    body: dict[str, Any],
    accept: str = JSON,
    user: str | None = ALEX,
    token: str | None = None,
) -> httpx.Response:
    headers = {"accept": accept}
    if user:
        headers["authorization"] = f"Bearer {token or await portal.token(user)}"
    return await portal.client.post("/graphql", json=body, headers=headers)


async def get(portal: Portal, params: dict[str, str], accept: str = JSON) -> httpx.Response:
    headers = {"accept": accept, "authorization": f"Bearer {await portal.token(ALEX)}"}
    return await portal.client.get("/graphql", params=params, headers=headers)


def first_error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["errors"][0]
    return error


async def test_the_persisted_query_flow_over_post(portal: Portal) -> None:
    unknown = await post(portal, {"extensions": persisted(QUERY)})
    assert unknown.status_code == 200
    assert first_error(unknown)["message"] == "PersistedQueryNotFound"
    assert first_error(unknown)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

    registered = await post(portal, {"query": QUERY, "extensions": persisted(QUERY)})
    assert registered.status_code == 200
    assert registered.json() == ME

    token = await portal.token(ALEX)  # its session is written before counting starts
    before = portal.statements
    by_hash = await post(
        portal, {"extensions": persisted(QUERY), "operationName": "Me"}, token=token
    )
    assert by_hash.status_code == 200
    assert by_hash.json() == ME
    assert portal.statements - before == 2  # authentication (1) and the account


async def test_the_persisted_query_flow_over_get(portal: Portal) -> None:
    query = "query MeToo { viewer { account { username } } }"
    params = {"extensions": json.dumps(persisted(query))}
    unknown = await get(portal, params, GRAPHQL_RESPONSE)
    # Not 400, which makes Apollo's link turn persisted queries off for good.
    assert unknown.status_code == 404
    assert "data" not in unknown.json()
    assert first_error(unknown)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

    registered = await get(portal, {**params, "query": query}, GRAPHQL_RESPONSE)
    assert registered.status_code == 200
    assert registered.json() == ME

    by_hash = await get(portal, params, GRAPHQL_RESPONSE)
    assert by_hash.status_code == 200
    assert by_hash.json() == ME


async def test_the_persisted_query_flow_through_a_real_server(tmp_path: Path) -> None:
    """`portal serve` in its own process, over a socket: POST and GET as a client sends them."""
    database = await make_database("sqlite", tmp_path, None)
    server = await Server(database.url, tmp_path, {}).start()
    query = f"query Ping{uuid.uuid4().hex[:8]} {{ __typename }}"
    answer = {"data": {"__typename": "Query"}}
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            unknown = await client.post("/graphql", json={"extensions": persisted(query)})
            assert unknown.status_code == 200
            assert unknown.headers["content-type"].startswith(JSON)
            assert first_error(unknown)["message"] == "PersistedQueryNotFound"
            assert first_error(unknown)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

            body = {"query": query, "extensions": persisted(query)}
            registered = await client.post("/graphql", json=body)
            assert registered.status_code == 200
            assert registered.json() == answer

            by_hash = await client.post("/graphql", json={"extensions": persisted(query)})
            assert by_hash.status_code == 200
            assert by_hash.json() == answer

            params = {"extensions": json.dumps(persisted(query))}
            got = await client.get("/graphql", params=params, headers={"accept": GRAPHQL_RESPONSE})
            assert got.status_code == 200
            assert got.headers["content-type"].startswith(GRAPHQL_RESPONSE)
            assert got.json() == answer

            other = {"extensions": json.dumps(persisted(query + " "))}
            missing = await client.get(
                "/graphql", params=other, headers={"accept": GRAPHQL_RESPONSE}
            )
            assert missing.status_code == 404
            assert first_error(missing)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    finally:
        await server.stop()


async def test_a_hash_that_does_not_match_is_refused_and_not_kept(portal: Portal) -> None:
    other = "query Other { __typename }"
    before = portal.statements
    wrong = await post(portal, {"query": other, "extensions": persisted(QUERY + " ")}, user=None)
    assert wrong.status_code == 400
    assert first_error(wrong)["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    assert portal.statements == before  # not run
    later = await post(portal, {"extensions": persisted(QUERY + " ")})
    assert first_error(later)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_an_invalid_document_is_not_kept(portal: Portal) -> None:
    invalid = "query Bad { viewer { noSuchField } }"
    refused = await post(portal, {"query": invalid, "extensions": persisted(invalid)})
    assert first_error(refused)["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    later = await post(portal, {"extensions": persisted(invalid)})
    assert first_error(later)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    ("extensions", "code"),
    [
        (persisted(QUERY, version=2), "PERSISTED_QUERY_NOT_SUPPORTED"),
        ({"persistedQuery": "abc"}, "BAD_REQUEST"),
        ({"persistedQuery": {"version": 1, "sha256Hash": "not-a-hash"}}, "BAD_REQUEST"),
        ({"persistedQuery": {"version": 1}}, "BAD_REQUEST"),
    ],
)
async def test_malformed_persisted_query_requests(
    portal: Portal, extensions: dict[str, Any], code: str
) -> None:
    response = await post(portal, {"extensions": extensions}, GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert first_error(response)["extensions"]["code"] == code


async def test_the_hash_is_case_insensitive(portal: Portal) -> None:
    query = "query Upper { __typename }"
    await post(portal, {"query": query, "extensions": persisted(query)})
    upper = {"persistedQuery": {"version": 1, "sha256Hash": digest(query).upper()}}
    response = await post(portal, {"extensions": upper})
    assert response.json() == {"data": {"__typename": "Query"}}


# -- through Redis: one instance registers, another answers by hash ----------------------
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis tests skipped: set TEST_REDIS_URL to run them")
    return url


@pytest.fixture
async def two_instances(seeded_db: Database) -> AsyncIterator[tuple[Portal, Portal]]:
    url = redis_url()
    settings = HttpSettings(redis_prefix=f"test-{uuid.uuid4().hex[:8]}:")
    async with (
        portal_on(seeded_db, redis_url=url, http=settings) as first,
        portal_on(seeded_db, redis_url=url, http=settings) as second,
    ):
        yield first, second


async def test_a_query_registered_on_one_instance_runs_by_hash_on_another(
    two_instances: tuple[Portal, Portal],
) -> None:
    first, second = two_instances
    query = f"query Shared{uuid.uuid4().hex[:6]} {{ viewer {{ account {{ username }} }} }}"
    assert (await post(second, {"extensions": persisted(query)})).status_code == 200
    registered = await post(first, {"query": query, "extensions": persisted(query)})
    assert registered.json() == ME
    by_hash = await post(second, {"extensions": persisted(query)})
    assert by_hash.json() == ME


async def test_an_unreachable_redis_falls_back_to_this_instance(seeded_db: Database) -> None:
    async with portal_on(seeded_db, redis_url="redis://127.0.0.1:1/0") as portal:
        query = "query Fallback { __typename }"
        registered = await post(portal, {"query": query, "extensions": persisted(query)})
        assert registered.json() == {"data": {"__typename": "Query"}}
        by_hash = await post(portal, {"extensions": persisted(query)})
        assert by_hash.json() == {"data": {"__typename": "Query"}}
