"""The short path of `schema.execution` answers exactly what graphql-core answers: each
query runs through both execution contexts and the answers (data and errors, with their
paths) must be equal, on a schema made to exercise the spec's corners."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Awaitable
from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated, Any

import pytest
import strawberry
from aiodataloader import DataLoader
from graphql import GraphQLObjectType, GraphQLString
from strawberry.extensions import FieldExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField
from strawberry.types.scalar import ScalarDefinition

from schema.execution import (
    Lean,
    PortalExecutionContext,
    attribute_plan,
    eager_resolvers,
    global_id,
    leaf_items_of,
    leaf_plan,
    lean_resolvers,
    run_eagerly,
)


@strawberry.enum
class Color(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.enum
class Tone(Enum):  # one member named otherwise in the schema: its lookup stays
    SOFT = "soft"
    LOUD = strawberry.enum_value("loud", name="NOISY")


# a scalar coerced by a method of its class, as our DateTime (schema/scalars.py)
MOMENT = ScalarDefinition(
    name="DateTime",
    description=None,
    specified_by_url=None,
    serialize=datetime.isoformat,
    parse_value=datetime.fromisoformat,
    parse_literal=None,
    origin=datetime,
)


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Part(Named):
    weight: int

    @strawberry.field
    def heavy(self) -> str:  # an error inside an object read as an attribute
        if self.weight == 13:
            raise ValueError("too heavy")
        return "no"

    @strawberry.field
    async def later_weight(self) -> int:  # waits, then may fail, inside such an object
        await asyncio.sleep(0)
        if self.weight == 13:
            raise ValueError("late")
        return self.weight

    @strawberry.field
    def eventually(self) -> str:  # a method returning an awaitable that may fail: a leaf
        async def value() -> str:
            await asyncio.sleep(0)
            if self.weight == 13:
                raise ValueError("never")
            return self.name

        return value()  # type: ignore[return-value]


class Stamp(FieldExtension, Lean):
    """Gives the body a `stamp` of its source, as RequiresScope gives its grant; refuses
    the source of size 13."""

    gives = ("stamp",)

    def apply(self, field: StrawberryField) -> None:  # each schema built applies it again
        field.arguments = [a for a in field.arguments if a.python_name != "stamp"]

    def keywords(self, source: Any, info: strawberry.Info) -> dict[str, Any]:
        if source.size == 13:
            raise PermissionError("no stamp for you")
        return {"stamp": f"{source.name}#{info.path.key}"}

    def resolve(self, next_: Any, source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        return next_(source, info, **self.keywords(source, info), **kwargs)

    resolve_async = resolve  # strawberry awaits an async body's coroutine


class Badge(FieldExtension, Lean):
    """Gives the body a `badge` from the source and the context alone (`context_only`, as
    RequiresScope gives its grant): no resolve info is built for its field. Refuses the
    source of size 13."""

    gives = ("badge",)
    context_only = True

    def apply(self, field: StrawberryField) -> None:
        field.arguments = [a for a in field.arguments if a.python_name != "badge"]

    def context_keywords(self, source: Any, context: Any) -> dict[str, Any]:
        if source.size == 13:
            raise PermissionError("no badge for you")
        return {"badge": f"{source.name}!{'' if context is None else context['mark']}"}

    def resolve(self, next_: Any, source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        return next_(source, info, **self.keywords(source, info), **kwargs)

    resolve_async = resolve


class Upper(FieldExtension):  # not Lean: the field keeps strawberry's wrapper
    def resolve(self, next_: Any, source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()


@strawberry.input
class Span:
    low: int
    high: int = 10


def _shout(root: Thing) -> str:  # a resolver given its source as `root`
    return root.name.upper()


@strawberry.type
class Thing(Named):
    size: int
    color: Color
    note: str | None
    required: str  # some rows break the type and hold None
    tint: Color | None  # some rows hold a value that is not a Color
    # objects read as attributes: a list, one object, a list that may hold nulls, and one
    # that holds an object of another type or a null where it may not
    parts: list[Part] = strawberry.field(default_factory=list)
    spare: Part | None = None
    loose: list[Part | None] = strawberry.field(default_factory=list)
    wrong: Part | None = None
    strict_parts: list[Part] = strawberry.field(default_factory=list)
    # one object read as an attribute (its fields run inline): one that may fail inside,
    # one that may not be null, and one cast with strawberry.cast
    twin: Part | None = None
    strict_twin: Part = strawberry.field(default_factory=lambda: Part(name="u", weight=0))
    cast_twin: Part | None = None
    # objects whose fields run in their parent's code (folded): one holding a null in its
    # non-null field, and one that may not be null holding it too
    nameless: Part | None = None
    strict_nameless: Part = strawberry.field(default_factory=lambda: Part(name="v", weight=0))
    # a Part cast (strawberry.cast) to another type: not a Part for strawberry's check,
    # alone and in a list
    odd_twin: Part | None = None
    odd_parts: list[Part] | None = strawberry.field(default_factory=list)
    tone: Tone | None = Tone.LOUD
    # a datetime, or what its coercion refuses: a date, an exception held as a value
    moment: datetime | None = None
    shout: str = strawberry.field(resolver=_shout)
    ratio: float | None = 0.5  # a float, given as it is unless it is not finite
    count: int | None = 1  # an int, given as it is unless a bool or not 32-bit
    since: date | None = None  # strawberry's Date: its coercion is an `operator.methodcaller`
    flag: bool | None = True
    # lists of leaves: of enums (with nulls where they may be, or a value that is not one),
    # of scalars, and one where no list may be null
    colors: list[Color] | None = strawberry.field(default_factory=lambda: [Color.RED])
    loose_colors: list[Color | None] = strawberry.field(default_factory=list)
    tags: list[str] | None = None
    strict_tags: list[str] = strawberry.field(default_factory=list)

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
    async def ready(self, suffix: str = "!") -> str | None:  # async, never waits: eagerly
        if self.size == 13:
            raise KeyError("not ready")
        return self.name + suffix

    @strawberry.field
    async def stored(self) -> str | None:  # a finished future, as a loader's cached key
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        if self.size == 13:
            future.set_exception(LookupError("no such row"))
        else:
            future.set_result(self.name.upper())
        return await future

    @strawberry.field
    async def batched(self, info: strawberry.Info) -> str:  # one loader key, many fields
        loader: DataLoader[int, str] = info.context["loader"]
        return await loader.load(self.size % 2)

    @strawberry.field
    async def waits_then_fails(self) -> int:  # suspends, then raises: after `Resumed`
        await asyncio.sleep(0)
        if self.size == 13:
            raise RuntimeError("late")
        return self.size

    # (mypy sees strawberry.field with extensions as untyped in this module, not in schema/)
    @strawberry.field(extensions=[Stamp()])  # type: ignore[untyped-decorator]
    def stamped(  # a Lean extension's keyword, arguments of every kind, defaults
        self,
        info: strawberry.Info,
        stamp: str,
        times: int = 1,
        tone: Color | None = None,
        sizes: list[int] | None = None,
        key: strawberry.ID | None = None,
        span: Span | None = None,
    ) -> str | None:
        return (
            f"{stamp}*{times}:{tone and tone.value}:{sizes}:{key!r}"
            f":{span and (span.low, span.high)}:{info.field_name}"
        )

    @strawberry.field(extensions=[Stamp()])  # type: ignore[untyped-decorator]
    async def stamped_later(self, stamp: str, word: str = "w") -> str | None:  # async, no info
        await asyncio.sleep(0)
        return stamp + word

    @strawberry.field(extensions=[Badge()])  # type: ignore[untyped-decorator]
    def badge(self, badge: str) -> str | None:  # a context-only keyword, a leaf
        return badge

    @strawberry.field(extensions=[Badge()])  # type: ignore[untyped-decorator]
    def badges(self, badge: str, times: int = 2) -> list[str | None] | None:  # arguments too
        return [badge, None][:times]

    @strawberry.field
    def shade(self, dark: bool = False) -> Color | None:  # lean leaves given arguments alone:
        # a value the enum refuses (b), a null (c), an exception returned (d)
        if self.name == "d":
            return ValueError("returned, not raised")  # type: ignore[return-value]
        shades = {"b": "not-a-color", "c": None}
        return shades.get(self.name, Color.BLUE if dark else Color.RED)  # type: ignore[return-value]

    @strawberry.field
    def marked(self, info: strawberry.Info) -> str | None:  # an info read for its context alone
        return None if info.context is None else f"{self.name}{info.context['mark']}"

    @strawberry.field
    def hue(self, dark: bool = False) -> Color:  # a null where none may be (c)
        return None if self.name == "c" else Color.RED  # type: ignore[return-value]

    @strawberry.field
    def scaled(self, by: float = 1.0) -> float | None:  # a float, finite or not
        return None if self.name == "c" else self.size * by

    @strawberry.field
    def codes(self, upper: bool = False) -> list[Color] | None:  # a list of leaves
        return [Color.RED, "not-a-color"] if self.size == 13 else [Color.BLUE]  # type: ignore[list-item]

    @strawberry.field(extensions=[Upper()])  # type: ignore[untyped-decorator]
    def upper(self, word: str) -> str:  # an extension that is not Lean
        return f"{word} {self.name}"

    @strawberry.field
    def inside(self, span: Span) -> bool:  # an input object: strawberry's conversion
        return span.low <= self.size <= span.high

    @strawberry.field
    def boss(self) -> Part:  # a lean object field that fails (non-null: nulls the Thing)
        if self.name == "c":
            raise ValueError("no boss")
        return Part(name=f"boss of {self.name}", weight=self.size)

    @strawberry.field
    def lost(self) -> Part:  # a lean object field returning null where none may be
        return None if self.name == "d" else Part(name="found", weight=0)  # type: ignore[return-value]

    @strawberry.field
    def misfit(self) -> Part | None:  # a lean object field returning another type
        return Other(code="x") if self.size == 13 else Part(name="fit", weight=1)  # type: ignore[return-value]

    @strawberry.field
    def disguised(self) -> Part | None:  # a lean object field: a Part, cast to another type
        made = Part(name=f"d{self.size}", weight=self.size)
        return strawberry.cast(Other, made) if self.size == 13 else made

    @strawberry.field
    def disguised_list(self) -> list[Part] | None:  # the same, in a lean list
        made = [Part(name=f"e{self.size}", weight=self.size) for _ in range(2)]
        if self.size == 13:
            made[1] = strawberry.cast(Other, made[1])
        return made

    @strawberry.field
    async def pal(self, info: strawberry.Info) -> Other | None:  # waits; `Other` fits all
        await asyncio.sleep(0)
        if self.size == 13:
            raise LookupError("no pal")
        return Other(code=f"{info.path.key}:{self.name}")

    @strawberry.field
    def kids(self, first: int = 2) -> list[Part | None] | None:  # arguments, objects
        if first < 0:
            raise ValueError("first must not be negative")
        return [Part(name=f"k{i}", weight=i) if i % 2 == 0 else None for i in range(first)]

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


def part(name: str, weight: int) -> Part:
    return Part(name=name, weight=weight)


THINGS = [
    thing(
        "a",
        1,
        note="first",
        parts=[part("p1", 1), part("p2", 2)],
        spare=part("s1", 1),
        loose=[part("l1", 1), None],
        strict_parts=[part("q1", 1)],
        colors=[Color.BLUE, Color.RED],
        loose_colors=[None, Color.BLUE],
        count=True,
        since=date(2026, 12, 7),
        tags=["x", "y"],
        twin=part("t1", 1),
        nameless=part("n1", 1),
        cast_twin=strawberry.cast(Part, part("c1", 1)),
        strict_tags=["s"],
        odd_parts=[part("o0", 0)],
        tone=Tone.SOFT,
        moment=datetime(2026, 12, 7, 9, 30, tzinfo=UTC),
    ),
    thing(
        "b",
        13,
        colors=[Color.RED, "not-a-color"],
        loose_colors=(Color.RED,),
        tags=["z", None],
        strict_tags=None,
        parts=[part("p13", 13)],
        loose=[None, part("l13", 13)],
        wrong=Other(code="not a part"),
        ratio=float("inf"),
        count=2**31,
        flag=1,
        strict_parts=[part("q2", 2), None],
        twin=part("t13", 13),
        nameless=Part(name=None, weight=2),  # type: ignore[arg-type]
        strict_twin=part("u13", 13),
        odd_twin=strawberry.cast(Other, part("o1", 1)),
        moment=LookupError("held as a value"),
        odd_parts=[part("o2", 2), strawberry.cast(Other, part("o3", 3))],
    ),
    thing("c", 3, required=None, ratio=float("nan"), tone=None),
    thing(
        "d",
        4,
        tint="not-a-color",
        count=-(2**31),
        note=7,
        moment=date(2026, 12, 7),
        strict_nameless=Part(name=None, weight=4),  # type: ignore[arg-type]
    ),
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


FAST = strawberry.Schema(
    query=Query,
    execution_context_class=PortalExecutionContext,
    scalar_overrides={datetime: MOMENT},
)
LEAN = lean_resolvers(FAST)
EAGER = eager_resolvers(FAST)
REFERENCE = strawberry.Schema(
    query=Query,
    execution_context_class=StrawberryGraphQLCoreExecutionContext,
    scalar_overrides={datetime: MOMENT},
)

QUERIES = {
    "leaves and aliases": "{ things { name size color note n: name again: size label shout"
    " since } }",
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
    "async fields that never wait, eagerly": '{ things { ready r2: ready(suffix: "?") } }',
    "an eager async error beside a non-null error": "{ strict { name } things { name ready } }",
    "finished futures, value and error": "{ things { stored name } named { name } }",
    "a field that waits and then fails": "{ named { ... on Thing { waits_then_fails: wa"
    "itsThenFails size } } things { waitsThenFails } }",
    "objects read as attributes": "{ things { parts { name weight } spare { name weight }"
    " loose { name } } }",
    "an error in an attribute list's item": "{ things { name loose { name heavy } } }",
    "an error in a non-null item nulls up the list": "{ broken { name }"
    " things { parts { heavy } } }",
    "waiting fields inside attribute objects": "{ things { parts { laterWeight }"
    " spare { laterWeight } loose { laterWeight } } }",
    "one attribute object, an error inside it, waiting inside it, cast": """{ things {
        name twin { name heavy } t2: twin { laterWeight } castTwin { name } } }""",
    "an error inside a non-null attribute object nulls up": "{ broken { strictTwin { name } }"
    " things { name strictTwin { name heavy } } }",
    "folded objects: aliases, fragments, literal directives, __typename": """{ things {
        name twin { n: name w: weight ... on Part { heavy } ...pn } t3: twin { __typename name }
        spare @include(if: true) { name weight @skip(if: true) n2: name } } }
        fragment pn on Named { name }""",
    "a null in a non-null field of a folded object": "{ things { name nameless { name weight"
    " } } broken { name strictNameless { weight name } } }",
    "waiting and failing inside a folded object": "{ things { name twin { eventually name }"
    " spare { eventually } } }",
    "folded objects under directives that read variables": """query($yes: Boolean!,
        $no: Boolean!) { things { twin { name @include(if: $yes) weight @skip(if: $yes) }
        spare @include(if: $no) { name } nameless { name } } }""",
    "an attribute holding another type": "{ things { name wrong { name } } }",
    "a null item where none may be": "{ things { name strictParts { name } } }",
    "fragments inside attribute objects": "{ things { spare { ... on Part { weight } ...n }"
    " parts { __typename ...n } } } fragment n on Named { name }",
    "floats and booleans, finite and not, bool and not": "{ things { ratio flag name }"
    " broken { ratio name } }",
    "enums named as in Python or not, a null": "{ things { tone color } broken { tone } }",
    "a scalar coerced by a method of its class": "{ things { name moment }"
    " broken { name moment } }",
    "objects cast to another type": "{ things { name oddTwin { name } oddParts { name }"
    " disguised { name } disguisedList { name } } }",
    "ints in range and not, a bool, a string that is not": "{ things { count size }"
    " broken { count note } }",
    "the same field twice, merged": "{ things { name name size } things2: things { size } }",
    "lists of leaves": "{ things { name colors looseColors tags } }",
    "a null list where none may be": "{ broken { name } things { name strictTags } }",
    "lists of leaves on a resolver's path": "{ named { ... on Thing { colors tags } } }",
    "lean object fields, their errors and nulls": "{ broken { name boss { name weight }"
    " lost { name } } things { name misfit { name } } }",
    "a lean error nulls up to the root": "{ strict { name boss { name } } }",
    "lean fields that wait, with aliases, an error and fragments on an interface": """{
        things { pal { code } p2: pal { c: code } }
        named { name ... on Thing { pal { code } kids { name } ...kin } } }
        fragment kin on Thing { k1: kids(first: 1) { weight } boss { ... on Named { name } } }""",
    "lean fields with arguments, variables, @skip and @include": """query($yes: Boolean!,
        $no: Boolean!) { things { kids(first: 3) { name } none: kids(first: 0) { name }
        bad: kids(first: -1) { name } boss @include(if: $no) { name }
        pal @skip(if: $no) { code } lost @skip(if: $yes) { name } } }""",
    "lean leaves with arguments or a context-only keyword, and their errors": """{
        things { name badge badges b1: badges(times: 1) shade d: shade(dark: true) scaled
        s2: scaled(by: 1e308) codes } broken { name badge shade scaled codes(upper: true) }
        h: broken { name hue } }""",
    "arguments and a lean extension's keyword": """query($yes: Boolean!) { things {
        a: stamped b: stamped(times: 3, tone: BLUE, sizes: [1, 2], key: "k7", span: {low: 1})
        c: stamped(times: 2, tone: null, sizes: null, span: null)
        v: stamped(span: {low: 0, high: 2}) @include(if: $yes)
        stampedLater l2: stampedLater(word: "x") upper(word: "hey")
        inside(span: {low: 0}) i2: inside(span: {low: 5, high: 6}) } }""",
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
    listed = answer(FAST, QUERIES["lists of leaves"])
    assert listed["data"]["things"][0] == {
        "name": "a",
        "colors": ["BLUE", "RED"],
        "looseColors": [None, "BLUE"],
        "tags": ["x", "y"],
    }
    assert {path for _message, path in listed["errors"]} == {
        ("things", 1, "colors", 1),
        ("things", 1, "tags", 1),
    }
    moments = answer(FAST, QUERIES["a scalar coerced by a method of its class"])
    assert moments["data"]["things"][0] == {"name": "a", "moment": "2026-12-07T09:30:00+00:00"}
    assert {path for _message, path in moments["errors"]} == {
        ("things", 1, "moment"),  # an exception held as a value: raised at its path
        ("broken", 1, "moment"),  # a date: datetime.isoformat refuses it
    }
    cast = answer(FAST, QUERIES["objects cast to another type"])
    assert cast["data"]["things"][1] == {
        "name": "b",
        "oddTwin": None,
        "oddParts": None,
        "disguised": None,
        "disguisedList": None,
    }
    assert {path for _message, path in cast["errors"]} == {
        ("things", 1, "oddTwin"),
        ("things", 1, "oddParts", 1),
        ("things", 1, "disguised"),
        ("things", 1, "disguisedList", 1),
    }
    floats = answer(FAST, QUERIES["floats and booleans, finite and not, bool and not"])
    assert floats["data"]["broken"][0] == {"ratio": None, "name": "c"}  # NaN: its error
    assert {path for _message, path in floats["errors"]} == {
        ("things", 1, "ratio"),
        ("broken", 0, "ratio"),
    }
    stamped = answer(FAST, QUERIES["arguments and a lean extension's keyword"])
    first = stamped["data"]["things"][0]
    assert first["b"] == "a#b*3:blue:[1, 2]:'k7':(1, 10):stamped"  # converted, defaulted
    assert (first["l2"], first["upper"], first["i2"]) == ("a#l2x", "HEY A", False)
    assert len(stamped["errors"]) == 6  # the refused keyword, at each field's path


def test_lean_resolvers_are_really_called_and_fail_at_their_path() -> None:
    # the 5 of Query, 15 of Thing and 3 of Part without arguments; Thing's `ready`,
    # `stamped`, `stampedLater`, `inside`, `kids`, `badge`, `badges`, `shade`, `hue`,
    # `scaled` and `codes` with theirs (not `upper`: not Lean)
    assert LEAN == 34
    lean = answer(FAST, QUERIES["lean resolvers, async, with their errors"])
    assert lean["data"]["things"][0] == {"fetched": "aa", "where": "where@a", "w2": "w2@a"}
    assert lean["errors"] == [("gone", ("things", 1, "fetched"))]


def test_lean_leaves_are_completed_without_a_resolve_info(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lean field of a leaf type (or a list of leaves) whose body reads no info, given
    arguments alone or a `context_only` keyword, or reads only the info's context, is
    completed without a resolve info; one is built only where graphql-core completes the
    value to say what is wrong with it."""
    infos: list[tuple[str, Any]] = []
    build_resolve_info = StrawberryGraphQLCoreExecutionContext.build_resolve_info

    def counting_info(self: Any, field_def: Any, nodes: Any, parent: Any, path: Any) -> Any:
        infos.append((nodes[0].name.value, tuple(path.as_list())))
        return build_resolve_info(self, field_def, nodes, parent, path)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "build_resolve_info", counting_info)
    query = QUERIES["lean leaves with arguments or a context-only keyword, and their errors"]
    fast = answer(FAST, query)
    assert fast["data"]["things"][0] == {
        "name": "a",
        "badge": "a!",
        "badges": ["a!", None],
        "b1": ["a!"],
        "shade": "RED",
        "d": "BLUE",
        "scaled": 1.0,
        "s2": 1e308,
        "codes": ["BLUE"],
    }
    assert fast["data"]["h"] == [None, {"name": "d", "hue": "RED"}]
    assert {path for _message, path in fast["errors"]} == {
        ("things", 1, "badge"),  # the keyword refused: no info is needed to say so
        ("things", 1, "badges"),
        ("things", 1, "b1"),
        ("things", 1, "shade"),  # refused by the enum
        ("things", 1, "d"),
        ("things", 1, "s2"),  # 13e308 is not finite
        ("things", 1, "codes", 1),
        ("broken", 1, "shade"),  # an exception returned
        ("h", 0, "hue"),  # a null where none may be
    }
    # built only to complete what is wrong, by graphql-core (which says what)
    assert sorted(infos) == [
        ("codes", ("things", 1, "codes")),
        ("hue", ("h", 0, "hue")),
        ("scaled", ("things", 1, "s2")),
        ("shade", ("broken", 1, "shade")),
        ("shade", ("things", 1, "d")),
        ("shade", ("things", 1, "shade")),
    ]
    # the body is given the operation's context value itself (or an info that holds it)
    infos.clear()
    query = "{ things { badge marked } }"
    marked = asyncio.run(FAST.execute(query, context_value={"mark": "m"}))
    assert marked.data == {
        "things": [{"badge": "a!m", "marked": "am"}, {"badge": None, "marked": "bm"}]
    }
    assert infos == []
    # nor for a value awaited (`batched` waits on a loader it finds in the info's context;
    # `waitsThenFails` fails after waiting, for b, and nulls up to the root)

    async def load(keys: list[int]) -> list[str]:
        await asyncio.sleep(0)
        return [f"k{key}" for key in keys]

    async def waited(schema: strawberry.Schema, query: str) -> Any:
        result = await schema.execute(query, context_value={"loader": DataLoader(load)})
        return result.data, [(e.message, e.path) for e in result.errors or ()]

    batched, failed = "{ things { batched } }", "{ things { waitsThenFails } }"
    assert asyncio.run(waited(FAST, batched)) == ({"things": [{"batched": "k1"}] * 2}, [])
    assert asyncio.run(waited(FAST, failed)) == (None, [("late", ["things", 1, "waitsThenFails"])])
    assert infos == []
    for query in (batched, failed):
        assert asyncio.run(waited(REFERENCE, query)) == asyncio.run(waited(FAST, query))


def test_lean_fields_are_called_without_graphql_cores_execute_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lean resolver's field is called from `execute_fields` itself; graphql-core's
    `execute_field` runs only for what is not lean (`upper`), and a resolve info is built
    only for a body that reads it (`where`) or a value graphql-core completes (a null
    where none may be): not for `boss`, `things`, nor `kids`, whose
    arguments need no conversion (given as graphql-core coerced them, with no info)."""
    from graphql.execution.executor import Executor

    executed: list[str] = []
    infos: list[str] = []
    execute_field = Executor.execute_field
    build_resolve_info = StrawberryGraphQLCoreExecutionContext.build_resolve_info

    def counting_execute(self: Any, parent_type: Any, source: Any, details: Any, *rest: Any) -> Any:
        executed.append(details[0].node.name.value)
        return execute_field(self, parent_type, source, details, *rest)

    def counting_info(self: Any, field_def: Any, nodes: Any, *rest: Any) -> Any:
        infos.append(nodes[0].name.value)
        return build_resolve_info(self, field_def, nodes, *rest)

    monkeypatch.setattr(Executor, "execute_field", counting_execute)
    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "build_resolve_info", counting_info)
    query = """{ things { name boss { name } kids(first: 1) { name } where }
        t: things { upper(word: "x") } }"""
    fast = answer(FAST, query)
    assert executed == ["upper", "upper"]  # the Query's and Thing's lean fields: none
    assert sorted(set(infos)) == ["upper", "where"]
    assert fast["data"]["things"][0] == {
        "name": "a",
        "boss": {"name": "boss of a"},
        "kids": [{"name": "k0"}],
        "where": "where@a",
    }
    executed.clear()
    assert answer(REFERENCE, query) == fast
    assert "boss" in executed  # (the reference does call it)


def test_eager_fields_really_run_without_tasks() -> None:
    """A field whose coroutine finishes without waiting costs no task: the answer of 2
    things x 2 eager fields comes back with the root's own task only."""
    made: list[object] = []

    async def run() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        factory = loop.get_task_factory()

        def counting(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
            made.append(coro)
            return asyncio.Task(coro, loop=loop, **kwargs)

        loop.set_task_factory(counting)
        try:
            result = await FAST.execute('{ things { ready r2: ready(suffix: "?") stored } }')
        finally:
            loop.set_task_factory(factory)
        return {"data": result.data, "errors": result.errors}

    answered = asyncio.run(run())
    assert answered["data"]["things"][0] == {"ready": "a!", "r2": "a?", "stored": "A"}
    assert [e.path for e in answered["errors"]] == [
        ["things", 1, "ready"],
        ["things", 1, "r2"],
        ["things", 1, "stored"],
    ]
    assert made == []


def test_fields_waiting_on_one_future_all_get_it() -> None:
    """Several fields awaiting the same pending future (a loader's key asked by each
    of them, before its batch ran) each get its value, eagerly and through graphql-core."""

    async def load(keys: list[int]) -> list[str]:
        await asyncio.sleep(0)
        return [f"k{key}" for key in keys]

    async def run(schema: strawberry.Schema) -> Any:
        context = {"loader": DataLoader(load)}
        result = await schema.execute(
            "{ things { batched } named { ... on Thing { batched } } }", context_value=context
        )
        return result.data, result.errors

    assert asyncio.run(run(FAST)) == asyncio.run(run(REFERENCE))
    data, errors = asyncio.run(run(FAST))
    assert errors is None
    assert data["things"] == [{"batched": "k1"}, {"batched": "k1"}]


def test_run_eagerly_hands_on_what_waits() -> None:
    async def waits() -> int:
        await asyncio.sleep(0)
        return 7

    async def main() -> None:
        resumed = run_eagerly(waits())
        assert not isinstance(resumed, int)
        assert await resumed == 7
        assert run_eagerly(5) == 5
        cancelled = run_eagerly(asyncio.sleep(3600))
        task = asyncio.ensure_future(cancelled)
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_attribute_objects_take_their_path_and_their_corners_happen() -> None:
    thing_fields = FAST._schema.get_type("Thing").fields  # type: ignore[union-attr]
    for name in ("parts", "spare", "loose", "wrong", "strictParts"):
        assert attribute_plan(thing_fields[name]) is not None, name
    assert attribute_plan(thing_fields["name"]) is None  # a leaf
    query_fields = FAST._schema.query_type.fields  # type: ignore[union-attr]
    assert attribute_plan(query_fields["things"]) is None  # a resolver
    assert attribute_plan(query_fields["anything"]) is None  # a union
    item = answer(FAST, QUERIES["an error in an attribute list's item"])
    assert item["data"]["things"][1]["loose"] == [None, None]
    assert item["errors"] == [("too heavy", ("things", 1, "loose", 1, "heavy"))]
    up = answer(FAST, QUERIES["an error in a non-null item nulls up the list"])
    assert up["data"] is None
    assert up["errors"] == [("too heavy", ("things", 1, "parts", 0, "heavy"))]
    waiting = answer(FAST, QUERIES["waiting fields inside attribute objects"])
    assert waiting["data"] is None  # b's part fails after waiting, in a non-null chain
    assert ("late", ("things", 1, "parts", 0, "laterWeight")) in waiting["errors"]
    wrong = answer(FAST, QUERIES["an attribute holding another type"])
    assert wrong["data"]["things"][1] == {"name": "b", "wrong": None}
    assert wrong["errors"][0][1] == ("things", 1, "wrong")
    strict = answer(FAST, QUERIES["a null item where none may be"])
    assert strict["data"] is None
    assert strict["errors"][0][1] == ("things", 1, "strictParts", 1)


def test_small_objects_run_in_their_parents_code() -> None:
    """An object read as an attribute whose fields are all leaves is completed in its
    parent's generated function (no `run` of its own), in an operation that collects
    alike; its errors, nulls, awaited fields and aliases come out as graphql-core's."""
    import sys

    from schema import execution

    def runs(query: str) -> int:
        counted = 0

        def count(frame: Any, event: str, _arg: Any) -> None:
            nonlocal counted
            code = frame.f_code
            if event == "call" and code.co_filename == "<schema.execution field set>":
                counted += code.co_name == "run"  # (not `make`: each request parses anew)

        sys.setprofile(count)
        try:
            answer(FAST, query)
        finally:
            sys.setprofile(None)
        return counted

    # the root's and the two things' field sets: not the twins', folded into the things'
    assert runs("{ things { name twin { name weight } } }") == 3
    # not folded: a field that is not a leaf inside, a directive reading a variable
    assert runs("{ things { name twin { __typename name } } }") == 5
    assert runs("query($yes: Boolean!) { things { twin { name @include(if: $yes) } } }") == 5
    folded = [
        kind
        for _fields, plan in execution._PLANNED.values()
        for kind in plan.kinds
        if kind[0] == "fold"
    ]
    name_and_weight = (("leaf", "name", "str", False), ("leaf", "weight", "int", False))
    assert ("fold", "twin", True, True, name_and_weight) in folded
    aliased = answer(
        FAST, QUERIES["folded objects: aliases, fragments, literal directives, __typename"]
    )
    assert aliased["data"]["things"][0]["twin"] == {"n": "t1", "w": 1, "heavy": "no", "name": "t1"}
    assert aliased["data"]["things"][1]["twin"] is None
    assert aliased["errors"] == [("too heavy", ("things", 1, "twin", "heavy"))]
    nulls = answer(FAST, QUERIES["a null in a non-null field of a folded object"])
    assert nulls["data"]["things"][1] == {"name": "b", "nameless": None}
    assert nulls["data"]["broken"][1] is None  # a non-null object: nulls up to the item
    assert {path for _message, path in nulls["errors"]} == {
        ("things", 1, "nameless", "name"),
        ("broken", 1, "strictNameless", "name"),
    }
    waited = answer(FAST, QUERIES["waiting and failing inside a folded object"])
    assert waited["data"]["things"][0]["twin"] == {"eventually": "t1", "name": "t1"}
    assert waited["errors"] == [("never", ("things", 1, "twin", "eventually"))]


def test_leaves_take_the_short_path_and_other_fields_do_not() -> None:
    fields = FAST._schema.get_type("Thing").fields  # type: ignore[union-attr]
    assert leaf_plan(fields["name"]) is not None  # an attribute
    assert leaf_plan(fields["color"]) is not None  # an enum
    assert leaf_plan(fields["label"]) is not None  # a method of the source alone
    assert leaf_plan(fields["shout"]) is not None  # a function of the source as `root`
    query_fields = FAST._schema.query_type.fields  # type: ignore[union-attr]
    assert leaf_plan(query_fields["things"]) is None  # not a leaf


def test_leaves_are_checked_inline_by_kind() -> None:
    """Each leaf of a field set is read and checked in the set's generated function: by
    type (String, Boolean, a finite Float, a 32-bit Int), by member (an enum), for null
    where the type allows it, or its type's coercion called; anything unusual goes to
    `_leaf_rest`; `Attribute` and `Call` fields are dispatched from there too. The
    function's code depends on the kinds of its steps alone: aliases are bound, not
    written into it, and field sets of the same kinds share it."""
    from schema import execution

    thing_type = FAST._schema.type_map["Thing"]
    assert isinstance(thing_type, GraphQLObjectType)
    answer(
        FAST,
        "{ things { name color size ratio flag note label a: name b: name since"
        ' spare { name } parts { name } boss { name } upper(word: "x") } }',
    )
    names = ["name", "color", "size", "ratio", "flag", "note", "label", "a", "b", "since"]
    names += ["spare", "parts", "boss", "upper"]
    [plan] = [
        plan
        for _grouped, plan in execution._PLANNED.values()
        if [step[0] for step in plan.steps] == names
    ]
    kinds = [execution._inline_kind(thing_type, step) for step in plan.steps]
    assert kinds == [
        ("leaf", "name", "str", False),
        ("leaf", "color", "member", False),  # named as in Python: its `_name_`
        ("leaf", "size", "int", False),
        ("leaf", "ratio", "float", True),
        ("leaf", "flag", "bool", True),
        ("leaf", "note", "str", True),
        ("leaf", None, "str", False),  # a resolver of the source alone: called
        ("leaf", "name", "str", False),
        ("leaf", "name", "str", False),
        ("leaf", "since", "coerce", True),  # a Date: its coercion called inline
        ("object", "spare", True, True),  # one object read as an attribute: its fields
        # run inline (a plain class: its cast mark looked up in the instance's dict)
        ("attribute",),  # a list of objects read as an attribute
        ("call",),  # a lean resolver
        ("step",),  # anything else
    ]
    answer(FAST, QUERIES["enums named as in Python or not, a null"])
    toned = {
        tuple(execution._inline_kind(thing_type, step) for step in plan.steps)
        for _grouped, plan in execution._PLANNED.values()
        if [step[0] for step in plan.steps] == ["tone", "color"]
    }
    assert toned == {
        (
            ("leaf", "tone", "enum", True),  # a member named otherwise: looked up by its id
            ("leaf", "color", "member", False),
        )
    }
    answer(FAST, QUERIES["a scalar coerced by a method of its class"])
    [moment] = {
        step[2]
        for _grouped, plan in execution._PLANNED.values()
        for step in plan.steps
        if step[0] == "moment"
    }
    assert moment is not None
    assert execution._usual_type(moment[1]) is datetime  # exactly one: coerced at once
    assert execution._usual_type(GraphQLString.coerce_output_value) is execution._Nothing
    factories = len(execution._FACTORIES)
    aliased = answer(FAST, "{ things { n: name c: color s: size } }")
    again = answer(FAST, "{ things { x: name y: color z: size } }")
    assert len(execution._FACTORIES) == factories + 1  # Thing's, once for both
    assert aliased["data"]["things"][0] == {"n": "a", "c": "RED", "s": 1}
    assert again["data"]["things"][0] == {"x": "a", "y": "RED", "z": 1}
    ints = answer(FAST, QUERIES["ints in range and not, a bool, a string that is not"])
    # a bool as an Int is 1; 2**31 is not an Int (its error, its null); -2**31 is
    assert ints["data"]["things"] == [{"count": 1, "size": 1}, {"count": None, "size": 13}]
    assert ints["data"]["broken"][1] == {"count": -(2**31), "note": "7"}
    assert [path for _message, path in ints["errors"]] == [("things", 1, "count")]


def test_an_execution_leaves_no_reference_cycle() -> None:
    """The request's context (and all it reaches: loaders, rows) is freed when execution
    ends, by reference counting, not at the next garbage collection: a cycle through the
    executor kept a thousand objects of each dashboard for the collector."""

    class RequestContext(dict[str, Any]):
        pass

    async def run() -> weakref.ref[RequestContext]:
        context = RequestContext(loader=DataLoader(_loaded))
        result = await FAST.execute(
            "{ things { name batched } named { name } }", context_value=context
        )
        assert result.data is not None
        return weakref.ref(context)

    gc.collect()
    gc.disable()
    try:
        freed = asyncio.run(run())
        assert freed() is None
    finally:
        gc.enable()


async def _loaded(keys: list[int]) -> list[str]:
    return [str(key) for key in keys]


def _executed(
    document: Any, variables: dict[str, Any] | None = None, schema: strawberry.Schema = FAST
) -> tuple[Any, list[tuple[str, Any]]]:
    """The data and errors of `document` executed by graphql-core's `execute` with the
    schema's execution context (the document parsed once, as the portal caches them)."""
    from graphql import execute

    result = execute(
        schema._schema,
        document,
        variable_values=variables,
        executor_class=schema.execution_context_class,
    )
    if isinstance(result, Awaitable):
        result = asyncio.run(_awaited(result))
    return result.data, [(e.message, e.path) for e in result.errors or ()]


def _data_of(document: Any, variables: dict[str, Any] | None = None) -> Any:
    return _executed(document, variables)[0]


def test_fields_collected_once_per_document_unless_directives_read_variables() -> None:
    """A document parsed once (as the portal caches them) collects its fields once for all
    requests; one whose @skip/@include read variables collects per request, and each
    request's variables still decide."""
    from graphql import parse

    from schema import execution

    def run(document: Any, schema: strawberry.Schema, variables: dict[str, Any]) -> Any:
        return _executed(document, variables, schema)

    static = parse("{ things { name parts { name weight } } named { name } }")
    execution._COLLECTED.clear()
    first = run(static, FAST, {})
    kept = len(execution._COLLECTED)
    assert kept > 0
    assert run(static, FAST, {}) == first == run(static, REFERENCE, {})
    assert len(execution._COLLECTED) == kept  # the second request collected nothing anew

    dynamic = parse(QUERIES["skip and include"])
    for yes, no in ((True, False), (False, True), (True, True)):
        variables = {"yes": yes, "no": no}
        before = len(execution._COLLECTED)
        assert run(dynamic, FAST, variables) == run(dynamic, REFERENCE, variables)
        assert len(execution._COLLECTED) == before


async def _awaited(value: Awaitable[Any]) -> Any:
    return await value


def test_lists_of_leaves_are_completed_here_unless_unusual() -> None:
    thing_type = FAST._schema.type_map["Thing"]
    assert isinstance(thing_type, GraphQLObjectType)
    fields = thing_type.fields
    colors, loose = leaf_items_of(fields["colors"].type), leaf_items_of(fields["looseColors"].type)
    assert colors is not None
    assert loose is not None
    assert leaf_items_of(fields["parts"].type) is None  # a list of objects: a Shape
    assert leaf_items_of(fields["color"].type) is None
    assert colors.complete([Color.BLUE, Color.RED]) == ["BLUE", "RED"]
    assert loose.complete((None, Color.RED)) == [None, "RED"]
    for unusual in ([Color.RED, None], [Color.RED, "nope"], "RED", None, [ValueError()]):
        assert not isinstance(colors.complete(unusual), list)  # graphql-core's path


def test_deferred_fragments_answer_like_graphql_core() -> None:
    """@defer inside list items, attribute objects and lean fields' objects (the portal
    does not enable incremental delivery; the short path still keeps its answers)."""
    from strawberry.schema.config import StrawberryConfig

    config = StrawberryConfig(enable_experimental_incremental_execution=True)
    fast = strawberry.Schema(
        query=Query, execution_context_class=PortalExecutionContext, config=config
    )
    lean_resolvers(fast)
    eager_resolvers(fast)
    reference = strawberry.Schema(
        query=Query, execution_context_class=StrawberryGraphQLCoreExecutionContext, config=config
    )
    query = """{ things { name parts { name ... @defer { weight heavy } }
        kids { name ... @defer { weight } } boss { ... @defer { name } } } }"""

    async def run(schema: strawberry.Schema) -> list[str]:
        result: Any = await schema.execute(query)
        answers = [repr(getattr(result, "initial_result", result))]
        async for later in result.subsequent_results:
            answers.append(repr(later))
        return answers

    answered = asyncio.run(run(fast))
    assert "pending=" in answered[0]  # really deferred
    assert answered == asyncio.run(run(reference))


def test_caches_across_requests_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lists of the root's fields are new in each request: what they add to the
    caches kept across requests (by list) is bounded, not one entry more per request."""
    from graphql import execute, parse

    from schema import execution

    monkeypatch.setattr(execution, "_COLLECTED_BOUND", 5)
    document = parse("{ things { name parts { name } spare { name } } strict { name } }")
    for _ in range(40):
        result = execute(FAST._schema, document, executor_class=FAST.execution_context_class)
        if isinstance(result, Awaitable):
            result = asyncio.run(_awaited(result))
        assert result.data is not None
        assert len(execution._BY_LIST) <= 6
        assert len(execution._SUBPLANS) <= 6


def test_root_fields_planned_once_per_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """graphql-core collects the root fields in each request; their plan is made once per
    operation that collects alike (and per request for one whose directives read
    variables, where each request's variables still decide)."""
    from graphql import parse

    from schema import execution

    planned: list[list[str]] = []
    field_plans = execution._field_plans

    def counting(parent_type: GraphQLObjectType, fields: Any, *rest: Any) -> Any:
        planned.append(list(fields))
        return field_plans(parent_type, fields, *rest)

    monkeypatch.setattr(execution, "_field_plans", counting)
    run = _data_of
    static = parse("{ a: strict { name } things { name } b: strict { label } }")
    first = run(static, {})
    assert ["a", "things", "b"] in planned
    planned.clear()
    assert run(static, {}) == first
    assert run(static, {}) == first
    assert planned == []  # nothing planned anew, not even the root's fields
    dynamic = parse(
        "query($yes: Boolean!) { a: strict @include(if: $yes) { name } things { name } }"
    )
    assert run(dynamic, {"yes": True}) == {"a": [{"name": "c"}], "things": first["things"]}
    assert run(dynamic, {"yes": False}) == {"things": first["things"]}


def test_subplans_found_once_per_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan of an attribute's or a lean field's objects is looked up once per step of
    an operation that collects alike, then read from the step (`Memo`); an operation
    whose directives read variables looks it up each time, and each request's variables
    still decide."""
    from graphql import parse

    looked_up: list[str] = []
    subplan = PortalExecutionContext._subplan

    def counting(self: Any, object_type: Any, details: Any, *rest: Any) -> Any:
        looked_up.append(object_type.name)
        return subplan(self, object_type, details, *rest)

    monkeypatch.setattr(PortalExecutionContext, "_subplan", counting)
    run = _data_of
    static = parse("{ things { parts { name } spare { weight } boss { name } kids { name } } }")
    first = run(static)
    assert sorted(set(looked_up)) == ["Part", "Thing"]
    looked_up.clear()
    assert run(static) == first
    assert looked_up == []  # every step's subplan read from the step
    dynamic = parse(
        """query($yes: Boolean!) { things { parts { name @include(if: $yes) weight }
        spare { weight } boss { name } } }"""
    )
    assert run(dynamic, {"yes": True})["things"][0]["parts"][0] == {"name": "p1", "weight": 1}
    looked_up.clear()
    assert run(dynamic, {"yes": False})["things"][0]["parts"][0] == {"weight": 1}
    assert looked_up.count("Part") == 5  # each list and object of the 2 things (b: no spare)


def test_literal_arguments_coerced_once_per_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lean field's arguments given by the document alone, all scalars or enums, are
    coerced once; those that read a variable, or hold a list or an input object, in each
    request (each request's variables decide; no body sees a list another one changed)."""
    from graphql import execute, parse
    from graphql.execution import values

    from schema import execution

    coerced: list[str] = []
    get_argument_values = values.get_argument_values

    def counting(field_def: Any, node: Any, *rest: Any) -> Any:
        coerced.append(node.alias.value if node.alias else node.name.value)
        return get_argument_values(field_def, node, *rest)

    monkeypatch.setattr(execution, "get_argument_values", counting)
    document = parse(
        """query($n: Int!) { things { k: kids(first: 3) { name } v: kids(first: $n) { name }
        r: ready(suffix: "?") s: stamped(sizes: [1, 2], tone: BLUE) } }"""
    )

    def run(n: int) -> Any:
        result = execute(
            FAST._schema,
            document,
            variable_values={"n": n},
            executor_class=FAST.execution_context_class,
        )
        if isinstance(result, Awaitable):
            result = asyncio.run(_awaited(result))
        return result.data

    first = run(1)
    assert coerced.count("k") == 1  # once: the second thing's are the first's
    coerced.clear()
    second = run(2)
    assert sorted(set(coerced)) == ["s", "v"]  # a variable; a list
    assert (
        first["things"][0]["k"]
        == second["things"][0]["k"]
        == [{"name": "k0"}, None, {"name": "k2"}]
    )
    assert [len(thing["v"]) for thing in first["things"]] == [1, 1]
    assert [len(thing["v"]) for thing in second["things"]] == [2, 2]
    assert second["things"][0]["s"].startswith("a#s*1:blue:[1, 2]")


def _encode(type_name: str, internal: str) -> str:
    return f"{type_name}/{internal}"


@strawberry.interface
class Identified:
    @strawberry.field
    @global_id(_encode)
    def id(self) -> strawberry.ID:
        return strawberry.ID(_encode(type(self).__name__, self.node_id()))

    def node_id(self) -> str:
        raise NotImplementedError


@strawberry.type
class Plain(Identified):
    key: str
    twin: Plain | None = None

    def node_id(self) -> str:
        return self.key


class PlainChild(Plain):  # not Plain itself: its name is its own
    pass


@strawberry.type
class Computed(Identified):
    key: str

    def node_id(self) -> str:  # not one attribute: the resolver is called
        return self.key.upper()


@strawberry.type
class IdQuery:
    @strawberry.field
    def plains(self) -> list[Plain]:
        return [
            Plain(key="p1", twin=Plain(key="p2")),
            PlainChild(key="c1"),
            Plain(key=7),  # type: ignore[arg-type]  # not a str: the resolver formats it
            Plain(key=None),  # type: ignore[arg-type]
        ]

    @strawberry.field
    def computed(self) -> list[Computed]:
        return [Computed(key="k1")]


def test_global_ids_are_encoded_in_the_field_sets_code() -> None:
    """A resolver declared `global_id` on a type whose `node_id` returns one attribute
    is encoded in the generated code (its kind "id"), with the same answer as the
    resolver's: for an object of exactly the type's class holding a str; anything else
    (a subclass, another value) through the resolver itself."""
    from schema import execution

    fast = strawberry.Schema(query=IdQuery, execution_context_class=PortalExecutionContext)
    lean_resolvers(fast)
    eager_resolvers(fast)
    reference = strawberry.Schema(
        query=IdQuery, execution_context_class=StrawberryGraphQLCoreExecutionContext
    )
    query = "{ plains { id twin { id } } computed { id } }"
    assert answer(fast, query) == answer(reference, query)
    assert answer(fast, query) == {
        "data": {
            "plains": [
                {"id": "Plain/p1", "twin": {"id": "Plain/p2"}},
                {"id": "PlainChild/c1", "twin": None},
                {"id": "Plain/7", "twin": None},
                {"id": "Plain/None", "twin": None},
            ],
            "computed": [{"id": "Computed/K1"}],
        },
        "errors": [],
    }
    assert execution._returned_attribute(Plain.node_id) == "key"
    assert execution._returned_attribute(Computed.node_id) is None

    def kind_of(type_name: str) -> tuple[Any, ...]:
        parent = fast._schema.type_map[type_name]
        assert isinstance(parent, GraphQLObjectType)
        step: execution.Step = ("id", [], execution._plan(parent, "id"), None, None)
        return execution._inline_kind(parent, step)

    assert kind_of("Plain") == ("id", "key", False)  # encoded in the code
    assert kind_of("Computed") == ("leaf", None, "str", False)  # the resolver called
