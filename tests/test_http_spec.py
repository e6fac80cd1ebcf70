"""GraphQL over HTTP: media types and their status codes, GET for queries only, and every
kind of malformed request answered with a 4xx and a clear, typed error, never a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.datastructures import Headers
from starlette.types import Message

from portal.http import GRAPHQL_RESPONSE, JSON, Sent, decode_json, negotiate
from tests.conftest import ALEX, Portal

QUERY = "query Me { viewer { account { username } } }"
RESPONSE_MEDIA = {"accept": GRAPHQL_RESPONSE}
JSON_MEDIA = {"accept": JSON}


def media(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


def code(response: httpx.Response) -> str:
    body = response.json()
    return str(body["errors"][0]["extensions"]["code"])


async def post(
    portal: Portal, body: Any, headers: dict[str, str] | None = None, as_user: str | None = ALEX
) -> httpx.Response:
    headers = dict(headers or {})
    if as_user is not None:
        headers["authorization"] = f"Bearer {await portal.token(as_user)}"
    return await portal.client.post("/graphql", json=body, headers=headers)


async def raw(
    portal: Portal, content: bytes | str, content_type: str | None = JSON, **headers: str
) -> httpx.Response:
    if content_type is not None:
        headers["content-type"] = content_type
    return await portal.client.post("/graphql", content=content, headers=headers)


# -- media types -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (JSON, JSON),
        ("*/*", JSON),
        (None, JSON),
        ("application/*", JSON),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, {JSON}", JSON),
        (f"{JSON}, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"text/html, {GRAPHQL_RESPONSE};q=0.1", GRAPHQL_RESPONSE),
        ("text/html", None),
        (f"{JSON};q=0, text/plain", None),
    ],
)
def test_negotiation(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON, "*/*", None])
async def test_a_query_answers_in_the_negotiated_media_type(
    portal: Portal, accept: str | None
) -> None:
    response = await post(portal, {"query": QUERY}, {"accept": accept} if accept else {})
    assert response.status_code == 200
    assert media(response) == (GRAPHQL_RESPONSE if accept == GRAPHQL_RESPONSE else JSON)
    assert response.json() == {"data": {"viewer": {"account": {"username": ALEX}}}}


async def test_an_unacceptable_accept_is_406(portal: Portal) -> None:
    response = await post(portal, {"query": QUERY}, {"accept": "application/xml"})
    assert response.status_code == 406
    assert code(response) == "NOT_ACCEPTABLE"


@pytest.mark.parametrize(
    ("document", "expected_code"),
    [
        ("query { viewer { ", "GRAPHQL_PARSE_FAILED"),
        ("query { viewer { noSuchField } }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_parse_and_validation_errors_by_media_type(
    portal: Portal, document: str, expected_code: str
) -> None:
    before = portal.statements
    new = await post(portal, {"query": document}, RESPONSE_MEDIA, as_user=None)
    assert new.status_code == 400
    assert "data" not in new.json()
    assert code(new) == expected_code
    legacy = await post(portal, {"query": document}, JSON_MEDIA, as_user=None)
    assert legacy.status_code == 200
    assert legacy.json()["data"] is None
    assert code(legacy) == expected_code
    assert portal.statements == before  # nothing ran


COERCION_DOCUMENT = "query P($n: Int!) { viewer { inbox(first: $n) { nodes { id } } } }"


ME = json.dumps({"query": "{ __typename }", "variables": {"file": None, "files": [None]}})


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"operations": ME, "map": "[]"}, "`map` must map"),
        ({"operations": ME, "map": '{"0": "variables.file"}'}, "`map` must map"),
        ({"operations": ME, "map": '{"0": [1]}'}, "`map` must map"),
        ({"operations": ME, "map": '{"9": ["variables.file"]}'}, "is missing"),
        ({"operations": ME, "map": '{"0": ["variables.nothing.x"]}'}, "does not name"),
        ({"operations": ME, "map": '{"0": ["variables.file.x"]}'}, "does not name"),
        ({"operations": ME, "map": '{"0": ["variables.files.5"]}'}, "does not name"),
        ({"operations": ME, "map": '{"0": ["variables.files.x"]}'}, "does not name"),
        ({"operations": '"x"', "map": '{"0": ["variables.file"]}'}, "does not name"),
        (
            {
                "operations": '{"query": "{ __typename }", "variables": []}',
                "map": '{"0": ["variables.x"]}',
            },
            "does not name",
        ),
        ({"operations": ME, "map": "{"}, "`map` is not valid JSON"),
    ],
)
async def test_a_malformed_multipart_map_is_400(
    portal: Portal, caplog: pytest.LogCaptureFixture, form: dict[str, str], message: str
) -> None:
    before = portal.statements
    response = await portal.client.post(
        "/graphql", data=form, files={"0": ("a.txt", b"x", "text/plain")}
    )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert message in error["message"]
    assert portal.statements == before
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b'{"query": "{ __typename }"}'),  # no boundary
        ("multipart/form-data; boundary=x", b'{"query": "{ __typename }"}'),
        ("multipart/form-data; boundary=x", b"--x\r\ngarbage"),
    ],
)
async def test_a_malformed_multipart_body_is_400(
    portal: Portal, caplog: pytest.LogCaptureFixture, content_type: str, body: bytes
) -> None:
    response = await raw(portal, body, content_type)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_a_file_put_where_the_map_says_reaches_the_operation(portal: Portal) -> None:
    # A well-formed multipart request still runs (the file is in an undeclared variable).
    form = {"operations": ME, "map": '{"0": ["variables.file"], "1": ["variables.files.0"]}'}
    files = {"0": ("a.txt", b"x", "text/plain"), "1": ("b.txt", b"y", "text/plain")}
    response = await portal.client.post("/graphql", data=form, files=files)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"n": "ten"}, "Variable '$n' has invalid value: Int cannot represent non-integer value"),
        ({"n": 2**40}, "Variable '$n' has invalid value: Int cannot represent non 32-bit"),
        ({}, "Variable '$n' has invalid value: Expected a value of non-null type 'Int!'"),
    ],
)
async def test_variable_coercion_failure_is_a_request_error(
    portal: Portal, caplog: pytest.LogCaptureFixture, variables: dict[str, Any], message: str
) -> None:
    body = {"query": COERCION_DOCUMENT, "variables": variables}
    new = await post(portal, body, RESPONSE_MEDIA)
    assert new.status_code == 400
    assert media(new) == GRAPHQL_RESPONSE
    assert "data" not in new.json()
    legacy = await post(portal, body, JSON_MEDIA)
    assert legacy.status_code == 200
    assert media(legacy) == JSON
    for response in (new, legacy):
        [error] = response.json()["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT"}
        assert error["message"].startswith(message)
        assert "request id" not in error["message"]
    # A client's mistake, not ours: no error log with a traceback.
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_more_variable_faults_than_reported_are_all_typed(
    portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    # graphql-core reports 50 faults of a request's variables, then one error of its own
    # that names no variable: each error is BAD_USER_INPUT, nothing runs, nothing is logged
    # as ours.
    document = (
        "mutation P($input: UpdateNotificationPreferencesInput!) {"
        " updateNotificationPreferences(input: $input) { __typename } }"
    )
    faulty = {"kind": "NOPE", "channels": ["NOPE"]}
    body = {"query": document, "variables": {"input": {"preferences": [faulty] * 40}}}
    before = portal.statements
    new = await post(portal, body, RESPONSE_MEDIA, as_user=None)
    assert new.status_code == 400
    legacy = await post(portal, body, JSON_MEDIA, as_user=None)
    assert legacy.status_code == 200
    for response in (new, legacy):
        errors = response.json()["errors"]
        assert len(errors) == 51
        assert errors[-1]["message"].startswith("Too many errors processing variables")
        assert all(error["extensions"] == {"code": "BAD_USER_INPUT"} for error in errors)
        assert "data" not in response.json() or response.json()["data"] is None
    assert portal.statements == before
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_field_errors_with_data_are_200_in_both_media_types(portal: Portal) -> None:
    # A FORBIDDEN field beside data that was allowed: the operation ran.
    document = '{ viewer { account { username } } node(id: "%%%") { id } }'
    for headers in (RESPONSE_MEDIA, JSON_MEDIA):
        response = await post(portal, {"query": document}, headers)
        assert response.status_code == 200
        body = response.json()
        assert body["data"]["viewer"]["account"]["username"] == ALEX
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# -- GET -----------------------------------------------------------------------------------
async def test_get_runs_queries_with_variables(portal: Portal) -> None:
    params = {
        "query": "query P($n: Int) { viewer { inbox(first: $n) { nodes { id } } } }",
        "variables": json.dumps({"n": 1}),
        "operationName": "P",
    }
    response = await portal.client.get(
        "/graphql", params=params, headers={"authorization": f"Bearer {await portal.token(ALEX)}"}
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]["viewer"]["inbox"]["nodes"]) <= 1


async def test_get_refuses_mutations_with_405(portal: Portal) -> None:
    params = {"query": 'mutation { signOut(input: {refreshToken: "x"}) { ok } }'}
    before = portal.statements
    response = await portal.client.get("/graphql", params=params, headers=RESPONSE_MEDIA)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert code(response) == "METHOD_NOT_ALLOWED"
    assert portal.statements == before


async def test_get_with_bad_variables_is_400(portal: Portal) -> None:
    response = await portal.client.get("/graphql", params={"query": QUERY, "variables": "{no"})
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
async def test_other_methods_are_a_typed_405(portal: Portal, method: str, accept: str) -> None:
    before = portal.statements
    response = await portal.client.request(
        method, "/graphql", json={"query": QUERY}, headers={"accept": accept}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert media(response) == accept
    assert response.json() == {
        "errors": [
            {
                "message": "Use GET for queries or POST.",
                "extensions": {"code": "METHOD_NOT_ALLOWED"},
            }
        ]
    }
    assert portal.statements == before


# -- malformed bodies ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"query": "{ viewer { account { id } } }"', JSON, 400),  # truncated JSON
        (b"not json at all", JSON, 400),
        (b"", JSON, 400),
        (b"\xff\xfe{}", JSON, 400),  # not UTF-8
        (b'{"query": "{ __typename }"}', "text/plain", 415),
        (b"query={__typename}", "application/x-www-form-urlencoded", 415),
        (b'{"query": "{ __typename }"}', None, 415),
        (b'{"query": "{ __typename }"}', "application/json; charset=latin-1", 415),
        (b'"a string"', JSON, 400),
        (b"42", JSON, 400),
        (b"null", JSON, 400),
        (b"[]", JSON, 400),
        (b"[1, 2]", JSON, 400),
        (b'{"query": 42}', JSON, 400),
        (b'{"query": {"a": 1}}', JSON, 400),
        (b'{"query": ["{ __typename }"]}', JSON, 400),
        (b'{"query": true}', JSON, 400),
        (b'{"notquery": "{ __typename }"}', JSON, 400),
        (b'{"query": "{ __typename }", "variables": "{}"}', JSON, 400),
        (b'{"query": "{ __typename }", "variables": [1]}', JSON, 400),
        (b'{"query": "{ __typename }", "operationName": 1}', JSON, 400),
        (b'{"query": "{ __typename }", "extensions": 1}', JSON, 400),
        (b'{"query": "query A { __typename } query B { __typename }"}', JSON, 400),
        (b'{"query": "{ __typename }", "operationName": "Nope"}', JSON, 400),
        (b'{"query": "subscription { notificationAdded { id } }"}', JSON, 400),
    ],
)
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
async def test_malformed_requests_are_4xx_with_a_clear_error(
    portal: Portal, content: bytes, content_type: str | None, status: int, accept: str
) -> None:
    before = portal.statements
    response = await raw(portal, content, content_type, accept=accept)
    assert response.status_code == status, response.text
    assert media(response) == accept
    [error] = response.json()["errors"]
    assert error["message"]
    assert error["extensions"]["code"]
    assert portal.statements == before  # refused before anything ran


async def test_a_client_gone_before_its_body_is_no_500(
    portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that closes the connection before its body arrives (wrk stopping with
    requests in flight, a phone losing its signal) is nobody's fault: nothing is sent, no
    ERROR with a traceback is logged and no 500 is counted."""
    from portal.app import create_app
    from runtime.metrics import REGISTRY

    app = create_app(services=portal.services)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"30")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    def internal_errors() -> float:
        value = REGISTRY.get_sample_value("portal_http_refusals_total", {"status": "500"})
        return value or 0.0

    before = internal_errors()
    await app(scope, receive, send)
    assert sent == []
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert internal_errors() == before


def nested(depth: int) -> bytes:
    return b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * depth + b"]" * depth + b"}}"


def test_the_stdlib_parser_raises_recursion_error_on_deep_json() -> None:
    """Why the body is never given to `json.loads`: this is not a JSONDecodeError."""
    with pytest.raises(RecursionError):
        json.loads(nested(100_000))
    with pytest.raises(json.JSONDecodeError):
        decode_json(nested(100_000))


@pytest.mark.parametrize(
    "depth",
    [
        1_500,  # past orjson's own limit (1024), within the stdlib parser's
        100_000,  # past both: the stdlib parser would raise RecursionError
    ],
)
async def test_deeply_nested_json_is_400(portal: Portal, depth: int) -> None:
    response = await raw(portal, nested(depth))
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["errors"][0]["message"]


async def test_deeply_nested_variables_in_a_get_are_400(portal: Portal) -> None:
    variables = '{"v": ' + "[" * 1_500 + "]" * 1_500 + "}"
    response = await portal.client.get(
        "/graphql", params={"query": "{ __typename }", "variables": variables}
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["errors"][0]["message"]


async def test_deep_json_just_within_the_parser_limit_is_no_500(portal: Portal) -> None:
    # Valid JSON the parser accepts: the variable is not declared, so it is ignored.
    response = await raw(portal, nested(1_000))
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_deep_json_in_a_multipart_operations_field_is_400(portal: Portal) -> None:
    operations = '{"query": "{ __typename }", "variables": ' + "[" * 5000 + "]" * 5000 + "}"
    response = await portal.client.post(
        "/graphql", data={"operations": operations, "map": "{}"}, files={"0": ("a.txt", b"x")}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"input": "alex"},
            "Variable '$input' has invalid value: Expected value of type 'SignInInput' to be "
            "an object, found: 'alex'.",
        ),
        (
            {"input": {"username": 1, "password": "x"}},
            "Variable '$input' has invalid value at .username: String cannot represent a non "
            "string value: 1",
        ),
        ({}, "Variable '$input' has invalid value: Expected a value of non-null type"),
    ],
)
async def test_variables_of_the_wrong_type_are_refused_without_running(
    portal: Portal, caplog: pytest.LogCaptureFixture, variables: dict[str, Any], message: str
) -> None:
    document = "mutation S($input: SignInInput!) { signIn(input: $input) { errors { code } } }"
    before = portal.statements
    response = await post(portal, {"query": document, "variables": variables}, as_user=None)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"].startswith(message)
    assert portal.statements == before
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


# -- batches -------------------------------------------------------------------------------
async def test_a_batch_answers_each_operation(portal: Portal) -> None:
    batch = [{"query": QUERY}, {"query": "{ __typename }"}]
    response = await post(portal, batch)
    assert response.status_code == 200
    assert response.json() == [
        {"data": {"viewer": {"account": {"username": ALEX}}}},
        {"data": {"__typename": "Query"}},
    ]


async def test_a_batch_at_the_limit_runs(portal: Portal) -> None:
    limit = portal.services.settings.http.max_batch
    response = await post(portal, [{"query": "{ __typename }"}] * limit)
    assert response.status_code == 200
    assert response.json() == [{"data": {"__typename": "Query"}}] * limit


async def test_a_batch_over_the_limit_is_400(portal: Portal) -> None:
    limit = portal.services.settings.http.max_batch
    response = await post(portal, [{"query": "{ __typename }"}] * (limit + 1))
    assert response.status_code == 400
    assert str(limit) in response.json()["errors"][0]["message"]


# -- GraphiQL ------------------------------------------------------------------------------
@pytest.fixture
async def production_like(portal: Portal) -> AsyncIterator[httpx.AsyncClient]:
    from dataclasses import replace

    from portal.app import create_app

    settings = replace(portal.services.settings, graphiql=False)
    services = replace(portal.services, settings=settings)
    transport = httpx.ASGITransport(app=create_app(services=services))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield client


async def test_graphiql_is_served_to_a_browser_when_on(portal: Portal) -> None:
    response = await portal.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_graphiql_is_not_served_when_off(production_like: httpx.AsyncClient) -> None:
    response = await production_like.get("/graphql", headers={"accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 400
    assert "graphiql" not in response.text.lower()


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PRODUCTION_ENV = {
    "PORTAL_ENV": "production",
    "JWT_SECRET": "a-production-secret-of-32-characters-or-more",
    "INTEGRATION_TOKEN": "an-integration-token-of-32-characters-or-more",
    "SMTP_HOST": "smtp.invalid",
}


@pytest.mark.parametrize(("graphiql", "served"), [(None, False), ("0", False), ("1", True)])
async def test_graphiql_in_production_is_off_unless_configured(
    tmp_path: Path, graphiql: str | None, served: bool
) -> None:
    """Settings read from the environment as `portal serve` reads them."""
    from portal.app import create_app
    from runtime.config import from_env

    env = {**PRODUCTION_ENV, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"}
    if graphiql is not None:
        env["GRAPHIQL"] = graphiql
    app = create_app(settings=from_env(env))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
            response = await client.get("/graphql", headers={"accept": BROWSER})
    finally:
        await app.state.services.engine.dispose()
    if served:
        assert response.status_code == 200
        assert media(response) == "text/html"
        assert "graphiql" in response.text.lower()
    else:
        assert response.status_code == 400  # a GET without a query: nothing to run
        assert media(response) == JSON
        assert "graphiql" not in response.text.lower()


@pytest.mark.parametrize(
    "raw",
    [
        [],
        [(b"accept", b"application/json"), (b"content-type", b"application/json")],
        [
            (b"content-type", b"multipart/form-data; boundary=x"),
            (b"accept", b"*/*"),
            (b"content-type", b"application/json"),
            (b"content-length", b"12"),
            (b"accept", b"text/html"),
            (b"content-length", b"99"),
        ],
        [(b"accept", "application/json; q=\xe9".encode("latin-1"))],
    ],
)
def test_the_views_headers_are_read_in_one_pass_as_starlette_reads_them(
    raw: list[tuple[bytes, bytes]],
) -> None:
    """`Sent.of` takes the first header of each name, decoded as Latin-1: what
    `Request.headers.get` gave the view before (portal/http.py reads them once)."""
    headers = Headers(raw=raw)
    assert Sent.of(raw) == (
        headers.get("accept"),
        headers.get("content-type"),
        headers.get("content-length"),
    )
