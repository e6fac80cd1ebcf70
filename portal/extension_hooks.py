"""strawberry's extension hooks (on_operation, on_parse, on_validate, on_execute), driven
directly: the same generators entered in the same order and finished in reverse, without
strawberry's per-call machinery.

For each stage of each operation strawberry builds a context manager that looks every
extension's hook up again (`inspect` on it), wraps each in a new `contextlib` context manager
(`functools.update_wrapper` and all) and enters them through an `AsyncExitStack`: about a
tenth of a small query's CPU. Here a hook is looked up once per extension class, and a
stage's generators are advanced by hand, with contextlib's semantics: code after `yield`
runs in reverse order when the stage ends; an exception is thrown into each generator at
its `yield`, innermost first, and one that a hook swallows (returns) goes no further.

A hook that is a plain function (not a generator) is left to strawberry's own manager
(none of ours is). `on_stream_result` is strawberry's too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import TracebackType
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext
from strawberry.utils.await_maybe import await_maybe

# (extension class, hook name) -> (the hook, whether it is an async generator); None when
# the class does not implement it; PLAIN when it is not a generator function.
Hook = tuple[Callable[[SchemaExtension], Any], bool]
PLAIN: Any = object()
_hooks: dict[tuple[type[SchemaExtension], str], Hook | None] = {}
DEFAULT_RESULTS = SchemaExtension.get_results


def hook_of(cls: type[SchemaExtension], name: str) -> Hook | None:
    key = (cls, name)
    try:
        return _hooks[key]
    except KeyError:
        pass
    function = getattr(cls, name)
    found: Hook | None
    if function is getattr(SchemaExtension, name):
        found = None
    elif inspect.isasyncgenfunction(function):
        found = (function, True)
    elif inspect.isgeneratorfunction(function):
        found = (function, False)
    else:
        found = PLAIN
    _hooks[key] = found
    return found


class Stage:
    """One stage's hooks as one async context manager (what `async with` needs of it).
    Used synchronously (`Schema.execute_sync`, which we do not use), it hands over to
    strawberry's own manager, `fallback`."""

    __slots__ = ("extensions", "fallback", "hooks", "running", "sync")

    def __init__(
        self,
        hooks: list[tuple[SchemaExtension, Hook]],
        extensions: list[SchemaExtension],
        fallback: type[ExtensionContextManagerBase],
    ) -> None:
        self.hooks = hooks
        self.running: list[tuple[Any, bool]] = []
        self.extensions = extensions
        self.fallback = fallback
        self.sync: ExtensionContextManagerBase | None = None

    def __enter__(self) -> None:
        self.sync = self.fallback(self.extensions)
        self.sync.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.sync is not None:
            self.sync.__exit__(exc_type, exc, traceback)

    async def __aenter__(self) -> None:
        # As strawberry's: a hook that fails to start leaves those started before it
        # unfinished, and the exception goes to the caller.
        running = self.running
        for extension, (function, is_async) in self.hooks:
            generator = function(extension)
            if is_async:
                try:
                    await generator.__anext__()
                except StopAsyncIteration:
                    raise RuntimeError("generator didn't yield") from None
            else:
                try:
                    next(generator)
                except StopIteration:
                    raise RuntimeError("generator didn't yield") from None
            running.append((generator, is_async))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        pending = exc
        while self.running:
            generator, is_async = self.running.pop()
            try:
                if pending is None:  # the code after `yield`, inline: the usual way out
                    try:
                        if is_async:
                            await generator.__anext__()
                        else:
                            next(generator)
                    except (StopIteration, StopAsyncIteration):
                        continue
                    raise RuntimeError("generator didn't stop")
                if await _throw(generator, is_async, pending):
                    pending = None  # the hook swallowed it
                    continue
                raise RuntimeError("generator didn't stop after throw()")
            except BaseException as raised:
                if raised is not pending:
                    raised.__context__ = pending
                    pending = raised
        if pending is None:
            return exc is not None  # swallowed by a hook, if there was one
        if pending is exc:
            return False
        raise pending


async def _throw(generator: Any, is_async: bool, exc: BaseException) -> bool:
    """Throw `exc` at the `yield`: True when the generator returns (swallows it); what it
    raises (`exc` itself, or another) propagates."""
    try:
        if is_async:
            await generator.athrow(exc)
        else:
            generator.throw(exc)
    except (StopIteration, StopAsyncIteration) as stop:
        if stop is exc:
            raise
        return True
    return False


class _Nothing:
    """A stage no extension hooks into."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc: object) -> None:
        return None

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *_exc: object) -> None:
        return None


NOTHING = _Nothing()


class DirectHooksRunner(SchemaExtensionsRunner):
    """`SchemaExtensionsRunner` with each stage's hooks driven by `Stage`."""

    def _stage(self, name: str, fallback: type[ExtensionContextManagerBase]) -> Any:
        hooks = []
        for extension in self.extensions:
            hook = _hooks.get((type(extension), name), PLAIN)
            if hook is PLAIN:
                hook = hook_of(type(extension), name)
                if hook is PLAIN:
                    return fallback(self.extensions)
            if hook is not None:
                hooks.append((extension, hook))
        return Stage(hooks, self.extensions, fallback) if hooks else NOTHING

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        """As strawberry's, without a call (and an `isawaitable`) per extension that adds
        nothing to the answer's `extensions` (none of ours does)."""
        data: dict[str, Any] = {}
        for extension in self.extensions:
            if type(extension).get_results is not DEFAULT_RESULTS:
                data.update(await await_maybe(extension.get_results()))
        data.update(ctx.extensions_results)
        return data

    def operation(self) -> Any:
        return self._stage("on_operation", OperationContextManager)

    def parsing(self) -> Any:
        return self._stage("on_parse", ParsingContextManager)

    def validation(self) -> Any:
        return self._stage("on_validate", ValidationContextManager)

    def executing(self) -> Any:
        return self._stage("on_execute", ExecutingContextManager)
