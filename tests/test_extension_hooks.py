"""Extension hooks driven directly (portal/extension_hooks.py) keep contextlib's semantics:
entered in order, finished in reverse, an exception thrown at each `yield` innermost first,
a swallowed one going no further; and a schema answers as with strawberry's own runner."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import OperationContextManager
from strawberry.extensions.runner import SchemaExtensionsRunner

from portal.extension_hooks import NOTHING, DirectHooksRunner, Stage

calls: list[str] = []


class Outer(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        calls.append("outer in")
        yield
        calls.append("outer out")


class Inner(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        calls.append("inner in")
        yield
        calls.append("inner out")


class Swallows(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except LookupError:
            calls.append("swallowed")


class Replaces(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        try:
            yield
        except LookupError as exc:
            raise ValueError("replaced") from exc


class Plain(SchemaExtension):
    def on_operation(self) -> None:  # type: ignore[override]
        calls.append("plain")


def runner(*extensions: type[SchemaExtension]) -> DirectHooksRunner:
    return DirectHooksRunner(execution_context=None, extensions=[e() for e in extensions])  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def clear() -> None:
    calls.clear()


async def test_hooks_start_in_order_and_finish_in_reverse() -> None:
    async with runner(Outer, Inner).operation():
        calls.append("body")
    assert calls == ["outer in", "inner in", "body", "inner out", "outer out"]


async def test_an_exception_is_thrown_at_each_yield_and_goes_on() -> None:
    failure = LookupError("in the body")
    with pytest.raises(LookupError) as raised:
        async with runner(Outer, Inner).operation():
            raise failure
    assert raised.value is failure
    assert calls == ["outer in", "inner in"]  # no code after a yield ran


async def test_a_swallowed_exception_goes_no_further() -> None:
    async with runner(Outer, Swallows, Inner).operation():
        raise LookupError("swallowed inside")
    assert calls == ["outer in", "inner in", "swallowed", "outer out"]


async def test_a_hook_may_replace_the_exception() -> None:
    with pytest.raises(ValueError, match="replaced"):
        async with runner(Outer, Replaces).operation():
            raise LookupError("first")
    assert calls == ["outer in"]


async def test_stages_nobody_hooks_into_cost_nothing_and_plain_hooks_are_strawberrys() -> None:
    assert runner(Outer).executing() is NOTHING
    assert isinstance(runner(Outer).operation(), Stage)
    manager = runner(Outer, Plain).operation()
    assert isinstance(manager, OperationContextManager)
    async with manager:
        pass
    assert calls == ["outer in", "plain", "outer out"]


async def test_a_schema_answers_as_with_strawberrys_runner() -> None:
    seen: list[str] = []

    class Records(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            yield
            result = self.execution_context.result
            seen.append(f"errors={len(getattr(result, 'errors', None) or ())}")

        def on_parse(self) -> Iterator[None]:
            seen.append("parse")
            yield

        async def on_validate(self) -> AsyncIterator[None]:
            seen.append("validate")
            yield

    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self) -> str:
            return "world"

        @strawberry.field
        def broken(self) -> str:
            raise RuntimeError("broken")

    class Direct(strawberry.Schema):
        def create_extensions_runner(self, execution_context: Any, extensions: Any) -> Any:
            return DirectHooksRunner(execution_context=execution_context, extensions=extensions)

    answers = {}
    for name, cls in (("strawberry", strawberry.Schema), ("direct", Direct)):
        schema = cls(query=Query, extensions=[Records])
        seen.clear()
        results = [
            await schema.execute("{ hello }"),
            await schema.execute("{ hello broken }"),
            await schema.execute("{ nope }"),
            await schema.execute("{ hello"),
        ]
        answers[name] = (
            [(r.data, [e.formatted for e in r.errors or ()]) for r in results],
            list(seen),
        )
        assert isinstance(schema.create_extensions_runner(None, []), SchemaExtensionsRunner)  # type: ignore[arg-type]
    assert answers["direct"] == answers["strawberry"]
    assert answers["direct"][0][0] == ({"hello": "world"}, [])
