"""The short path of `schema.execution` answers exactly what graphql-core answers: each
query runs through both execution contexts and the answers (data and errors, with their
paths) must be equal, on a schema made to exercise the spec's corners."""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Annotated, Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.execution import PortalExecutionContext, leaf_plan, lean_resolvers


@strawberry.enum
class Color(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Thing(Named):
    size: int
    color: Color
    note: str | None
    required: str  # some rows break the type and hold None
    tint: Color | None  # some rows hold a value that is not a Color

    @strawberry.field
    def label(self) -> str:
        if self.size == 13:
            raise ValueError("unlucky")
        return f"{self.name}:{self.size}"

    @strawberry.field
    def where(self, info: strawberry.Info) -> str:  # a lean resolver given its Info
        return f"{info.path.key}@{self.name}"

    @strawberry.field
    async def fetched(self) -> str | None:  # an async body, lean: graphql-core awaits it
        await asyncio.sleep(0)
        if self.size == 13:
            raise LookupError("gone")
        return self.name * 2

    @strawberry.field
    async def missing(self) -> str:  # null where the type forbids it, after an await
        await asyncio.sleep(0)
        return None  # type: ignore[return-value]

    @strawberry.field
    def later(self) -> str:  # a method of the source returning an awaitable
        async def value() -> str:
            await asyncio.sleep(0)
            return self.name.upper()

        return value()  # type: ignore[return-value]


@strawberry.type
class Other:
    code: str


Anything = Annotated[Thing | Other, strawberry.union("Anything")]


def thing(name: str, size: int, **overrides: Any) -> Thing:
    values: dict[str, Any] = {
        "name": name,
        "size": size,
        "color": Color.RED,
        "note": None,
        "required": "yes",
        "tint": Color.BLUE,
    }
    return Thing(**{**values, **overrides})


THINGS = [
    thing("a", 1, note="first"),
    thing("b", 13),
    thing("c", 3, required=None),
    thing("d", 4, tint="not-a-color"),
]


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return THINGS[:2]

    @strawberry.field
    def broken(self) -> list[Thing | None]:
        return [*THINGS[2:]]

    @strawberry.field
    def strict(self) -> list[Thing]:
        return THINGS[2:3]

    @strawberry.field
    def named(self) -> list[Named]:
        return [*THINGS[:2]]

    @strawberry.field
    def anything(self) -> list[Anything]:
        return [THINGS[0], Other(code="x")]


FAST = strawberry.Schema(query=Query, execution_context_class=PortalExecutionContext)
LEAN = lean_resolvers(FAST)
REFERENCE = strawberry.Schema(
    query=Query, execution_context_class=StrawberryGraphQLCoreExecutionContext
)

QUERIES = {
    "leaves and aliases": "{ things { name size color note n: name again: size label } }",
    "skip and include": """query($yes: Boolean!, $no: Boolean!) {
        things { name @skip(if: $yes) size @include(if: $yes) note @include(if: $no)
                 ... @include(if: $no) { color } } }""",
    "fragments on an interface": """{ named { __typename name ... on Thing { size color }
        ...more } } fragment more on Thing { label }""",
    "fragments on a union": """{ anything { __typename ... on Thing { name }
        ... on Other { code } } }""",
    "an error at its path": "{ things { name label } }",
    "null in a non-null leaf propagates to the nullable parent": "{ broken { name required } }",
    "null propagation up to the root field": "{ strict { name required } }",
    "a value the enum refuses": "{ broken { name tint } }",
    "an awaitable returned by a method": "{ things { later name } }",
    "lean resolvers, async, with their errors": "{ things { fetched where w2: where } }",
    "an async null in a non-null field": "{ named { name ... on Thing { missing } } }",
    "the same field twice, merged": "{ things { name name size } things2: things { size } }",
}


def answer(schema: strawberry.Schema, query: str) -> dict[str, Any]:
    result = asyncio.run(schema.execute(query, variable_values={"yes": True, "no": False}))
    return {
        "data": result.data,
        "errors": sorted(((e.message, tuple(e.path or ())) for e in result.errors or ()), key=repr),
    }


@pytest.mark.parametrize("query", list(QUERIES.values()), ids=list(QUERIES))
def test_the_short_path_answers_like_graphql_core(query: str) -> None:
    assert answer(FAST, query) == answer(REFERENCE, query)


def test_the_corners_are_really_exercised() -> None:
    """The cases above do what they say: errors, nulls and merged fields happen."""
    errors = answer(FAST, QUERIES["an error at its path"])["errors"]
    assert errors == [("unlucky", ("things", 1, "label"))]
    propagated = answer(FAST, QUERIES["null in a non-null leaf propagates to the nullable parent"])
    assert propagated["data"] == {"broken": [None, {"name": "d", "required": "yes"}]}
    assert answer(FAST, QUERIES["null propagation up to the root field"])["data"] is None
    refused = answer(FAST, QUERIES["a value the enum refuses"])
    assert refused["data"]["broken"][1] == {"name": "d", "tint": None}
    assert refused["errors"][0][1] == ("broken", 1, "tint")
    later = answer(FAST, QUERIES["an awaitable returned by a method"])["data"]
    assert later["things"][0] == {"later": "A", "name": "a"}


def test_lean_resolvers_are_really_called_and_fail_at_their_path() -> None:
    assert LEAN == 10  # the 5 of Query and the 5 resolvers of Thing: none takes arguments
    lean = answer(FAST, QUERIES["lean resolvers, async, with their errors"])
    assert lean["data"]["things"][0] == {"fetched": "aa", "where": "where@a", "w2": "w2@a"}
    assert lean["errors"] == [("gone", ("things", 1, "fetched"))]


def test_leaves_take_the_short_path_and_other_fields_do_not() -> None:
    fields = FAST._schema.get_type("Thing").fields  # type: ignore[union-attr]
    assert leaf_plan(fields["name"]) is not None  # an attribute
    assert leaf_plan(fields["color"]) is not None  # an enum
    assert leaf_plan(fields["label"]) is not None  # a method of the source alone
    query_fields = FAST._schema.query_type.fields  # type: ignore[union-attr]
    assert leaf_plan(query_fields["things"]) is None  # not a leaf
