"""Random operations over the whole schema, as a careless or hostile client sends them:
every root query and mutation, random selections, and argument values that are often of
the right type and sometimes not (wrong types, huge and odd strings, NUL, out-of-range
numbers, forged and foreign global ids, unknown enum values, long lists). Through the real
HTTP app on SQLite and PostgreSQL, as three kinds of account (a parent, a proxy-only
caregiver with no patient to act for, a legal guardian).

Whatever is sent: no 5xx, no INTERNAL_SERVER_ERROR, nothing of ours in the answer
(traceback, SQL, driver or path), every error typed (`extensions.code`), and no ERROR in
the log. Seeded, so a failure names an operation that fails again the same way."""

from __future__ import annotations

import base64
import random
import re
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLUnionType,
    build_schema,
)

from tests.conftest import ALEX, DANIEL, GRACE, Portal

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"
OPERATIONS = 120  # per account and backend
LEAK = re.compile(
    r"Traceback|sqlalchemy|asyncpg|aiosqlite|psycopg|SELECT |INSERT |UPDATE |"
    r"DELETE FROM|\.py\"|File \"|/work/|site-packages"
)
ODD_STRINGS = [
    "",
    " ",
    "\u0000",
    "a" * 5000,
    "💥",
    "' OR 1=1 --",
    "\\",
    "%s%s%n",
    "null",
    "1e309",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "0" * 60,
]
TYPE_NAMES = ["Patient", "Result", "Appointment", "MessageThread", "Message", "Statement", "X"]
RAW_IDS = ["pat-0000001", "pat-0000002", "res-0000001", "apt-0000001", "1", "", "\u0000", "a" * 300]


class Fuzzer:
    def __init__(self, seed: int) -> None:
        self.schema = build_schema(SDL.read_text())
        self.random = random.Random(seed)
        self.ids: list[str] = []  # ids seen in answers, asked for again
        self.variables: dict[str, tuple[GraphQLInputType, Any]] = {}

    def global_id(self) -> str:
        rnd = self.random
        if self.ids and rnd.random() < 0.5:
            return rnd.choice(self.ids)
        text = f"{rnd.choice(TYPE_NAMES)}:{rnd.choice(RAW_IDS)}".encode()
        encoded = base64.urlsafe_b64encode(text).decode().rstrip("=")
        return rnd.choice([encoded, encoded + "=", "!!!", rnd.choice(ODD_STRINGS)])

    def scalar(self, name: str) -> Any:
        rnd = self.random
        if name == "ID":
            return self.global_id()
        if name == "Int":
            return rnd.choice([0, 1, -1, 5, 100, 2**31, -(2**31) - 1, 10**20, 3.5, "1", None])
        if name == "Float":
            return rnd.choice([0.0, -1.5, 1e308, 3, "x", None])
        if name == "Boolean":
            return rnd.choice([True, False, "true", 1, None])
        if name == "String":
            return rnd.choice([*ODD_STRINGS, "hello", "alex.rivera"])
        if "Date" in name:
            return rnd.choice(
                [
                    "2026-12-08",
                    "2026-12-08T10:00:00Z",
                    "2026-02-30",
                    "0001-01-01T00:00:00+14:00",
                    "9999-12-31T23:59:59-14:00",
                    "x",
                    12,
                ]
            )
        return rnd.choice([*ODD_STRINGS, 1, None, {"a": 1}, [1]])

    def value(self, kind: GraphQLInputType, depth: int = 0) -> Any:
        rnd = self.random
        required = isinstance(kind, GraphQLNonNull)
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        if not required and rnd.random() < 0.15:
            return None
        if rnd.random() < 0.02:  # the wrong type altogether
            return rnd.choice([*ODD_STRINGS, 1, True, [], {}])
        if isinstance(kind, GraphQLList):
            return [self.value(kind.of_type, depth + 1) for _ in range(rnd.choice([0, 1, 3, 60]))]
        if isinstance(kind, GraphQLEnumType):
            return rnd.choice([*kind.values, "NOPE"])
        if isinstance(kind, GraphQLInputObjectType):
            if depth > 4:
                return {}
            return {
                name: self.value(field.type, depth + 1)
                for name, field in kind.fields.items()
                if isinstance(field.type, GraphQLNonNull) or rnd.random() < 0.7
            }
        assert isinstance(kind, GraphQLScalarType)
        return self.scalar(kind.name)

    def selection(self, kind: GraphQLOutputType, depth: int) -> str:
        while isinstance(kind, GraphQLNonNull | GraphQLList):
            kind = kind.of_type
        if isinstance(kind, GraphQLScalarType | GraphQLEnumType):
            return ""
        if depth > 3:
            return "{ __typename }"
        if isinstance(kind, GraphQLUnionType):
            members = " ".join(
                f"... on {member.name} {self.selection(member, depth + 1)}"
                for member in kind.types[:3]
            )
            return "{ __typename " + members + " }"
        assert isinstance(kind, GraphQLObjectType) or hasattr(kind, "fields")
        fields = list(kind.fields.items())
        self.random.shuffle(fields)
        chosen = [
            self.field(name, field, depth) for name, field in fields[: self.random.randint(1, 6)]
        ]
        return "{ __typename " + " ".join(chosen) + " }"

    def field(self, name: str, field: GraphQLField, depth: int) -> str:
        arguments = []
        for argument_name, argument in field.args.items():
            if isinstance(argument.type, GraphQLNonNull) or self.random.random() < 0.3:
                variable = f"v{len(self.variables)}"
                self.variables[variable] = (argument.type, self.value(argument.type))
                arguments.append(f"{argument_name}: ${variable}")
        given = f"({', '.join(arguments)})" if arguments else ""
        return f"{name}{given} {self.selection(field.type, depth + 1)}"

    def operation(self) -> tuple[str, dict[str, Any]]:
        self.variables = {}
        mutation = self.random.random() < 0.35
        root = self.schema.mutation_type if mutation else self.schema.query_type
        assert root is not None
        name, field = self.random.choice(list(root.fields.items()))
        body = self.field(name, field, 0)
        declared = ", ".join(f"${v}: {kind}" for v, (kind, _) in self.variables.items())
        text = ("mutation" if mutation else "query") + (f"({declared})" if declared else "")
        values = {v: value for v, (_, value) in self.variables.items()}
        return f"{text} {{ {body} }}", values

    def harvest(self, data: Any) -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                if key == "id" and isinstance(value, str):
                    self.ids.append(value)
                else:
                    self.harvest(value)
        elif isinstance(data, list):
            for value in data:
                self.harvest(value)
        del self.ids[:-200]


@pytest.mark.parametrize(("username", "seed"), [(ALEX, 1), (DANIEL, 2), (GRACE, 3)])
async def test_random_operations_are_answered_typed_and_without_leaks(
    fresh_portal: Portal, caplog: pytest.LogCaptureFixture, username: str, seed: int
) -> None:
    portal = fresh_portal
    fuzzer = Fuzzer(seed)
    token = await portal.token(username)
    for _ in range(OPERATIONS):
        query, variables = fuzzer.operation()
        headers = {"authorization": f"Bearer {token}"} if fuzzer.random.random() < 0.9 else {}
        response = await portal.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        failure = f"{query}\nvariables: {variables!r}\n{response.status_code} {response.text}"
        assert response.status_code in (200, 400, 413, 429), failure
        assert "INTERNAL_SERVER_ERROR" not in response.text, failure
        assert not LEAK.search(response.text), failure
        body = response.json()
        for error in body.get("errors") or ():
            assert (error.get("extensions") or {}).get("code"), failure
        if headers and "UNAUTHENTICATED" in response.text:
            token = await portal.token(username)  # it signed out, or revoked its session
        fuzzer.harvest(body.get("data"))
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
