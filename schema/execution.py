"""graphql-core's execution with a short path for the commonest fields (issue 12).

Most fields of an answer are leaves read straight off an object already built: a
dataclass attribute (`Appointment.startsAt`) or a small synchronous method of the object
alone (`Node.id`, `PersonName.display`). graphql-core runs each through the general
machinery: a resolve info of fifteen items, strawberry's resolver wrapper and its argument
conversion, then `complete_value`'s type dispatch. Here such a field is planned once per
(type, field) and then costs an attribute read (or one call) and the scalar's or enum's
`coerce_output_value`.

The spec's semantics stay graphql-core's: anything off the short path (null where the
type forbids it, an exception, a value the scalar refuses, a middleware) is handed to
graphql-core's own `execute_field`, which resolves the field again and reports the error
at its path, with its null propagation. Selection (aliases, fragments, @skip/@include)
happens before a field is executed and is not touched.
"""

from __future__ import annotations

import weakref
from asyncio import Future
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum, Flag
from functools import cached_property, partial
from keyword import iskeyword
from math import isfinite
from operator import attrgetter
from types import CoroutineType, FunctionType
from typing import Any, TypeVar

import strawberry
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    GraphQLString,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    ValueNode,
    VariableNode,
    get_nullable_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import (
    CollectedFields,
    FieldDetails,
    FieldDetailsList,
    GroupedFieldSet,
)
from graphql.execution.executor import to_nodes
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryOptional
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.field import StrawberryField

# (read the value off the source, coerce it to the leaf type, whether null is allowed,
# whether the reader is a resolver of ours, the Python type whose exact instances the
# coercion returns unchanged); None: the field takes graphql-core's path
Leaf = tuple[Callable[[Any], Any], Callable[[Any], Any], bool, bool, type | None] | None
# graphql-core's String and ID return a str as it is, Boolean a bool, Float a finite float
_UNCHANGED: dict[Any, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
    GraphQLFloat: float,
}
_PLANS: dict[tuple[GraphQLObjectType, str], Leaf] = {}
P = TypeVar("P")
F = TypeVar("F", bound=Callable[..., Any])


def leaf_plan(field_def: GraphQLField) -> Leaf:
    """How to resolve `field_def` without the general machinery, if it may be."""
    leaf_type = get_nullable_type(field_def.type)
    if not is_leaf_type(leaf_type):
        return None
    nullable = not isinstance(field_def.type, GraphQLNonNull)
    definition = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return None
    coerce = _coercion_of(leaf_type)
    unchanged = _UNCHANGED.get(leaf_type)
    resolver = definition.base_resolver
    if resolver is None:
        if getattr(field_def.resolve, "__name__", "") != "_get_basic_result":
            return None  # an exception handler or a custom default resolver wraps it
        return attrgetter(definition.python_name), coerce, nullable, False, unchanged
    takes_source_only = (
        (resolver.self_parameter or resolver.root_parameter) is not None
        and len(resolver.signature.parameters) == 1
        and not resolver.is_async
        and not definition.arguments
    )
    function = resolver.wrapped_func
    if not takes_source_only or not isinstance(function, FunctionType):
        return None
    return function, coerce, nullable, True, unchanged


def _coercion_of(leaf_type: Any) -> Callable[[Any], Any]:
    """The leaf type's `coerce_output_value`; for one of strawberry's enums, a lookup of
    the member's name first (strawberry compares the value with each member's in turn)."""
    coerce: Callable[[Any], Any] = leaf_type.coerce_output_value
    if not isinstance(leaf_type, CustomGraphQLEnumType):
        return coerce
    names: dict[int, str] = {}
    members: Iterable[Any] = leaf_type.wrapped_cls
    for member in members:
        try:
            names[id(member)] = coerce(member)
        except Exception:  # noqa: S112 - a member the type refuses stays on its own path
            continue

    def by_member(value: Any) -> Any:
        # an enum's members live as long as their class: no other object has their id
        name = names.get(id(value))
        return name if name is not None else coerce(value)

    _MEMBER_NAMES[by_member] = names
    enum_class = leaf_type.wrapped_cls
    if (
        isinstance(enum_class, type)
        and issubclass(enum_class, Enum)
        and not issubclass(enum_class, Flag)  # (a Flag's combinations are instances too)
        and len(names) == len(enum_class)  # every member named (none refused)
        and all(names.get(id(member)) == member._name_ for member in enum_class)
    ):
        _NAMED_AS_MEMBERS[by_member] = enum_class
    return by_member


# resolvers declared (`global_id`) to return `encode(type(self).__name__, self.node_id())`,
# with their `encode`: in a field set of a type whose `node_id` returns one attribute, the
# id is encoded in the generated code, without the resolver's and `node_id`'s frames
_GLOBAL_IDS: dict[Callable[..., Any], Callable[[str, str], str]] = {}


def global_id(encode: Callable[[str, str], str]) -> Callable[[F], F]:
    """Declares that the decorated resolver returns `encode(type(self).__name__,
    self.node_id())` and nothing else (`Node.id`)."""

    def declared(function: F) -> F:
        _GLOBAL_IDS[function] = encode
        return function

    return declared


def _returns_attribute(self: Any) -> Any:
    return self.attribute  # (the shape of code `_returned_attribute` recognizes)


def _returned_attribute(function: Any) -> str | None:
    """The attribute `function` returns when its whole body is `return self.<attribute>`
    (the same code as `_returns_attribute`'s, another name), else None."""
    if not isinstance(function, FunctionType) or function.__defaults__ or function.__closure__:
        return None
    code, shape = function.__code__, _returns_attribute.__code__
    if (
        code.co_code != shape.co_code
        or code.co_consts != shape.co_consts
        or code.co_argcount != 1
        or code.co_kwonlyargcount
        or code.co_flags != shape.co_flags
        or len(code.co_names) != 1
    ):
        return None
    name = code.co_names[0]
    if not name.isidentifier() or iskeyword(name) or name.startswith("__"):
        return None
    return name


def _global_id_plan(parent_type: GraphQLObjectType, step: Step) -> tuple[type, Any] | None:
    """(the parent type's class, `encode`) when a leaf step's reader is declared a
    `global_id` and the class's `node_id` returns one attribute; else None."""
    leaf = step[2]
    if leaf is None or not leaf[3] or leaf[4] is not str:
        return None
    encode = _GLOBAL_IDS.get(leaf[0])
    definition = parent_type.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    origin = getattr(definition, "origin", None)
    if encode is None or not isinstance(origin, type):
        return None
    if _returned_attribute(getattr(origin, "node_id", None)) is None:
        return None
    return origin, encode


# the names of an enum's members by their id, for each `by_member` coercion made above
# (kept as long as the schema's types are; not weakly: a scalar's coercion may not be)
_MEMBER_NAMES: dict[Callable[[Any], Any], dict[int, str]] = {}
# the enum class of each `by_member` coercion whose every member is named in the schema
# as in Python: an instance of exactly that class is a member, its name is `_name_` (read
# in generated code without the lookup's two calls)
_NAMED_AS_MEMBERS: dict[Callable[[Any], Any], type[Enum]] = {}


def _planned(
    plans: dict[tuple[GraphQLObjectType, str], P | None],
    plan_of: Callable[[GraphQLField], P | None],
    parent_type: GraphQLObjectType,
    field_name: str,
) -> P | None:
    """The plan of a type's field made by `plan_of`, once per process (kept in `plans`)."""
    key = (parent_type, field_name)
    try:
        return plans[key]
    except KeyError:
        field_def = parent_type.fields.get(field_name)
        plan = plan_of(field_def) if field_def is not None else None
        plans[key] = plan
        return plan


def _plan(parent_type: GraphQLObjectType, field_name: str) -> Leaf:
    return _planned(_PLANS, leaf_plan, parent_type, field_name)


def lean_resolvers(schema: strawberry.Schema) -> int:
    """Call the body of each resolver field directly, with the strawberry `Info` it asks
    for and its arguments as graphql-core coerced them, instead of through strawberry's
    general wrapper (the conversion of every argument, the extension chain built with
    `reduce` and `partial` at each call, one more coroutine around an async body).
    graphql-core's `execute_field` still runs it, completes the value and reports its
    errors. A field qualifies when each of its extensions is `Lean` and each argument is
    converted exactly as strawberry would (see `_conversion_of`). Returns how many fields
    were made lean."""
    if schema.exception_handlers:
        return 0  # strawberry's wrapper is where those are matched
    info_class = None if schema.config.info_class is strawberry.Info else schema.config.info_class
    made = 0
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_def in graphql_type.fields.values():
            lean = _lean_resolver(field_def, schema)
            if lean is not None:
                resolve, body, needs_info = lean
                field_def.resolve, made = resolve, made + 1
                _LEAN_BODIES[resolve] = (body, needs_info, False, info_class)
    return made


# the resolvers made by `lean_resolvers` (and `eager_resolvers`' wrappers of them): the body
# to call, whether it reads the resolve info, whether its result goes through `run_eagerly`,
# the schema's info class when it is not strawberry's own. The body is called
# `body(source, info, **arguments)` with a strawberry `Info` (a `LazyInfo` unless the schema
# has an info class of its own) when it reads the info, else `body(source, context,
# **arguments)` with the operation's context value: no info is built.
LeanBody = tuple[Callable[..., Any], bool, bool, type[strawberry.Info] | None]
_LEAN_BODIES: dict[Callable[..., Any], LeanBody] = {}
# the function of each body that is only `function(source)`: a `Call` calls it directly
_SOURCE_ONLY: dict[Callable[..., Any], Callable[[Any], Any]] = {}


class Lean:
    """A field extension whose whole work is keyword arguments it gives the field's body
    (`RequiresScope`: the grant), decided from the source and the info before the body
    runs, the other arguments untouched. Such a field may be made lean: the body is called
    with `keywords(...)` added, without strawberry's extension chain.

    An extension that reads nothing of the info but its context says so with
    `context_only` and gives its keywords from `context_keywords` (no resolve info is
    built for its field then)."""

    gives: tuple[str, ...] = ()  # the names of the keywords
    context_only = False

    def keywords(self, source: Any, info: strawberry.Info) -> dict[str, Any]:
        return self.context_keywords(source, info.context)

    def context_keywords(self, source: Any, context: Any) -> dict[str, Any]:
        raise NotImplementedError


# graphql-core gives these arguments' values as strawberry passes them on (a scalar's or an
# enum's parsed value): nothing to convert
_AS_GIVEN = (str, int, float, bool, strawberry.ID)
_Conversion = Callable[[Any, strawberry.Info], Any] | None


def _conversion_of(argument: Any, graphql_name: str, schema: strawberry.Schema) -> _Conversion:
    """None when strawberry's `convert_argument` returns the value as graphql-core gave it
    (a built-in scalar or an enum, optional or not); otherwise that conversion itself."""
    type_ = argument.type
    if type(type_) is StrawberryOptional:  # not a subclass: `Maybe` wraps its value
        type_ = type_.of_type
    if type_ in _AS_GIVEN or isinstance(type_, StrawberryEnumDefinition):
        return None
    if isinstance(type_, type) and has_enum_definition(type_):
        return None
    registry, config = schema.schema_converter.scalar_registry, schema.config

    def convert(value: Any, info: strawberry.Info) -> Any:
        return convert_argument(value, argument.type, registry, config, info, path=(graphql_name,))

    return convert


def _lean_resolver(field_def: GraphQLField, schema: strawberry.Schema) -> Any:
    definition = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or definition.is_subscription:
        return None
    extensions = tuple(e for e in definition.extensions if isinstance(e, Lean))
    if len(extensions) != len(definition.extensions):
        return None
    resolver = definition.base_resolver
    if resolver is None or resolver.self_parameter is None:
        return None
    function = resolver.wrapped_func
    if not isinstance(function, FunctionType):
        return None
    info_parameter = resolver.info_parameter
    converter = schema.config.name_converter
    arguments = []
    for argument in definition.arguments:
        name = converter.from_argument(argument)
        arguments.append((name, argument.python_name, _conversion_of(argument, name, schema)))
    expected = [resolver.self_parameter.name]
    expected += [info_parameter.name] if info_parameter is not None else []
    expected += [python_name for _name, python_name, _convert in arguments]
    expected += [name for extension in extensions for name in extension.gives]
    if sorted(resolver.signature.parameters) != sorted(expected):
        return None  # root, parent or anything else: strawberry's wrapper supplies those
    info_class = schema.config.info_class
    info_name = info_parameter.name if info_parameter is not None else None
    if not arguments and not extensions:  # the commonest: no arguments at all
        if info_name is None:

            def of_source(source: Any, _info_or_context: Any) -> Any:
                return function(source)

            _SOURCE_ONLY[of_source] = function
            return of_source, of_source, False

        def given_info(source: Any, info: strawberry.Info) -> Any:
            return function(source, **{info_name: info})

        parameters = list(resolver.signature.parameters.values())
        if [p.name for p in parameters] == [resolver.self_parameter.name, info_name] and all(
            p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters
        ):
            given_info = function  # (source, info) as they come: no frame of ours around it

        def with_info(source: Any, raw: GraphQLResolveInfo[Any]) -> Any:
            return function(source, **{info_name: info_class(_raw_info=raw, _field=definition)})

        return with_info, given_info, True

    if (
        info_name is None
        and all(convert is None for _n, _p, convert in arguments)
        and all(extension.context_only for extension in extensions)
    ):
        with_context = _with_context(function, arguments, extensions)

        def of_context(source: Any, raw: GraphQLResolveInfo[Any], **values: Any) -> Any:
            return with_context(source, raw.context, **values)

        return of_context, with_context, False

    def given_arguments(source: Any, info: strawberry.Info, **values: Any) -> Any:
        keywords: dict[str, Any] = {}
        for name, python_name, convert in arguments:
            if name in values:  # else the body's own default, as strawberry does
                value = values[name]
                keywords[python_name] = value if convert is None else convert(value, info)
        for extension in extensions:
            keywords.update(extension.keywords(source, info))
        if info_name is not None:
            keywords[info_name] = info
        return function(source, **keywords)

    def with_arguments(source: Any, raw: GraphQLResolveInfo[Any], **values: Any) -> Any:
        return given_arguments(source, info_class(_raw_info=raw, _field=definition), **values)

    return with_arguments, given_arguments, True


class LazyInfo(strawberry.Info):
    """The strawberry `Info` a lean body is given from `execute_fields`: its context at
    hand, graphql-core's resolve info (fifteen items, for the path, the field nodes, the
    variables...) built only when something asks for it. Most bodies that take an info
    read only `info.context` (a loader, the access decision)."""

    context: Any = None  # (an attribute here, not `Info`'s property)

    @cached_property
    def _raw_info(self) -> GraphQLResolveInfo[Any]:  # type: ignore[override]
        executor, field_def, nodes, parent_type, path = self._making
        raw: GraphQLResolveInfo[Any] = executor.build_resolve_info(
            field_def, nodes, parent_type, path
        )
        return raw

    _making: tuple[Any, GraphQLField, list[FieldNode], GraphQLObjectType, Path]


_new_object = object.__new__


def _with_context(
    function: Callable[..., Any],
    arguments: list[tuple[str, str, _Conversion]],
    extensions: tuple[Lean, ...],
) -> Callable[..., Any]:
    """`body(source, context, **arguments)` of a field whose arguments need no conversion
    and whose extensions read only the context (`Lean.context_only`)."""
    if not arguments and len(extensions) == 1:  # a `RequiresScope` field: the commonest
        give = extensions[0].context_keywords

        def scoped(source: Any, context: Any) -> Any:
            return function(source, **give(source, context))

        return scoped

    def with_context(source: Any, context: Any, **values: Any) -> Any:
        keywords: dict[str, Any] = {}
        for name, python_name, _convert in arguments:
            if name in values:  # else the body's own default, as strawberry does
                keywords[python_name] = values[name]
        for extension in extensions:
            keywords.update(extension.context_keywords(source, context))
        return function(source, **keywords)

    return with_context


class Resumed:
    """A coroutine already run up to its first suspension, awaitable from there on.

    `await` drives it exactly as `await coroutine` would have (the same sends and throws),
    but without running its first steps again: they ran when the field was resolved."""

    __slots__ = ("_coroutine", "_pending")

    def __init__(self, coroutine: Coroutine[Any, Any, Any], pending: Any) -> None:
        self._coroutine = coroutine
        self._pending = pending  # what the coroutine yielded: the future it waits on

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine, pending = self._coroutine, self._pending
        self._pending = None
        if isinstance(pending, Future):
            pending._asyncio_future_blocking = True  # as its own `await` left it (see below)
        while True:
            try:
                sent = yield pending
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as exc:  # cancellation included: the coroutine sees it
                try:
                    pending = coroutine.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    pending = coroutine.send(sent)
                except StopIteration as stop:
                    return stop.value

    def close(self) -> None:
        self._coroutine.close()


def run_eagerly(value: Any) -> Any:
    """The value of an async resolver's result when it needs no waiting, else an awaitable.

    A coroutine is run at once up to its first suspension: most of an answer's async
    fields read loaders already primed (an appointment's provider, a thread's latest
    messages) and finish without waiting, so graphql-core then completes them as plain
    values, without a coroutine of its own around each, a task per list item and a
    `gather` per object. A coroutine that does wait is handed on as `Resumed`, which
    graphql-core awaits as it would have awaited the coroutine. A finished future (a
    loader's cached key) gives its result. A resolver's exception is raised here, where
    graphql-core reports a synchronous resolver's, at the same path."""
    if type(value) is CoroutineType:
        try:
            pending = value.send(None)
        except StopIteration as stop:
            return stop.value
        if isinstance(pending, Future):
            # A future's `await` marks it as handed to a task ("blocking", asyncio's
            # protocol for future-likes), and the task that takes it clears the mark. Here
            # no task took it yet: clear it as a task would, or another field awaiting the
            # same future (a loader's key asked twice) is refused; `Resumed` sets it again
            # when it hands the future to the task that awaits it.
            pending._asyncio_future_blocking = False
        return Resumed(value, pending)
    if isinstance(value, Future) and value.done():
        return value.result()
    return value


def eager_resolvers(schema: strawberry.Schema) -> int:
    """Wrap every field resolver of the schema (not the default attribute read, which is
    never async) so that its result goes through `run_eagerly`. Returns how many."""
    made = 0
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_def in graphql_type.fields.values():
            resolve = field_def.resolve
            if resolve is None or getattr(resolve, "__name__", "") == "_get_basic_result":
                continue
            field_def.resolve, made = _eager(resolve), made + 1
            lean = _LEAN_BODIES.get(resolve)
            if lean is not None:
                _LEAN_BODIES[field_def.resolve] = (lean[0], lean[1], True, lean[3])
    return made


def _eager(resolve: Callable[..., Any]) -> Callable[..., Any]:
    def eager(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        return run_eagerly(resolve(source, info, **arguments))

    eager.__wrapped__ = resolve  # type: ignore[attr-defined]
    return eager


def _helpers_of(executor: StrawberryGraphQLCoreExecutionContext) -> GraphQLResolveInfoHelpers:
    """graphql-core's helpers for resolvers (`info.async_helpers`), holding the executor
    weakly. graphql-core gives them its bound methods, which made every executor a
    reference cycle: the executor then outlived its request until a garbage collection,
    and with it everything it reaches — the request's Context, loaders, rows, collected
    fields, about a thousand objects per dashboard — so each collection took tens of
    milliseconds. Without the cycle, they are freed as the request ends."""
    executor_ref = weakref.ref(executor)

    def track(values: Sequence[Any]) -> None:
        alive = executor_ref()
        if alive is not None:
            alive.track_async_work(values)

    def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        return gather_with_cancel(*values)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)


@dataclass(frozen=True, slots=True)
class Shape:
    """An output type that is an object type, or a list of one object type: values of it
    are completed here without `complete_value`'s type dispatch, straight into the object's
    own fields."""

    field_type: GraphQLOutputType
    nullable: bool
    item_type: GraphQLOutputType | None  # a list's item type, None for one object
    item_nullable: bool
    object_type: GraphQLObjectType
    type_check: Callable[[Any, Any], Any] | None
    origin: type | None  # the type's own class: an instance of exactly it passes the check
    # `origin`'s instances keep their attributes in their own `__dict__`, and nothing of
    # the class answers for `TYPE_CAST_ATTRIBUTE` (see `_plain`): such an instance was
    # not cast (`strawberry.cast`) when the mark is not in its dict, which says so
    # without `getattr`'s call
    plain: bool = False

    def fits(self, value: Any) -> bool:
        """Whether `value` (not None) is completed here: an object the type's check
        accepts, or a list of them with nulls only where the item type allows; anything
        else goes to graphql-core, which says what is wrong at its path."""
        origin = self.origin  # (see `_accepts`; checked inline: once per object)
        if self.item_type is None:
            if type(value) is origin and getattr(value, TYPE_CAST_ATTRIBUTE, None) is None:
                return True
            return not isinstance(value, Exception) and self._accepts(value)
        if type(value) is not list and type(value) is not tuple:
            return False
        plain = self.plain
        for item in value:
            if type(item) is origin and (
                TYPE_CAST_ATTRIBUTE not in item.__dict__
                if plain
                else getattr(item, TYPE_CAST_ATTRIBUTE, None) is None
            ):
                continue
            if item is None:
                if not self.item_nullable:
                    return False
            elif isinstance(item, Exception) or not self._accepts(item):
                return False
        return True

    def _accepts(self, value: Any) -> bool:
        check = self.type_check
        if check is None:
            return True
        # strawberry's check says yes to an instance of the type's own class unless the
        # object was cast (strawberry.cast) to another type; it is asked in every other case
        if type(value) is self.origin and getattr(value, TYPE_CAST_ATTRIBUTE, None) is None:
            return True
        return bool(check(value, None))


_SHAPES: dict[GraphQLOutputType, Shape | None] = {}


def shape_of(field_type: GraphQLOutputType) -> Shape | None:
    try:
        return _SHAPES[field_type]
    except KeyError:
        shape = _SHAPES[field_type] = _shape(field_type)
        return shape


def _shape(field_type: GraphQLOutputType) -> Shape | None:
    named = get_nullable_type(field_type)
    item_type: GraphQLOutputType | None = None
    if isinstance(named, GraphQLList):
        item_type = named.of_type
        named = get_nullable_type(item_type)
    if not isinstance(named, GraphQLObjectType):
        return None  # a leaf, an interface, a union, a list of lists
    check = named.is_type_of
    if check is not None and not _strawberrys_type_check(check):
        return None
    origin = getattr(named.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF), "origin", None)
    return Shape(
        field_type=field_type,
        nullable=not isinstance(field_type, GraphQLNonNull),
        item_type=item_type,
        item_nullable=item_type is not None and not isinstance(item_type, GraphQLNonNull),
        object_type=named,
        type_check=check,
        origin=origin,
        plain=_plain(origin),
    )


def _plain(origin: Any) -> bool:
    """Whether `getattr(obj, TYPE_CAST_ATTRIBUTE, None)` of an instance of exactly
    `origin` can only find what the instance's own `__dict__` holds: its instances have
    one, and neither the class (nor its metaclass) has the attribute nor a hook of
    attribute access of its own."""
    return (
        isinstance(origin, type)
        and getattr(origin, "__dictoffset__", 0) != 0
        and not hasattr(origin, TYPE_CAST_ATTRIBUTE)
        and getattr(origin, "__getattribute__", None) is _OBJECT_GETATTRIBUTE
        and not hasattr(origin, "__getattr__")
    )


_OBJECT_GETATTRIBUTE: Any = object.__getattribute__


@dataclass(frozen=True, slots=True)
class LeafItems:
    """A list of leaves (`[Scope!]!`): its items coerced here, without graphql-core's
    per-item completion (a path, an awaitable check and the type dispatch for each)."""

    coerce: Callable[[Any], Any]
    item_nullable: bool

    def complete(self, value: Any) -> Any:
        """The completed list, or `_OFF_PATH` for anything unusual (not a list, a null
        where none may be, an item the type refuses): graphql-core then says what."""
        if type(value) is not list and type(value) is not tuple:
            return _OFF_PATH
        coerce = self.coerce
        completed: list[Any] = []
        for item in value:
            if item is None:
                if not self.item_nullable:
                    return _OFF_PATH
                completed.append(None)
                continue
            if isinstance(item, Exception):
                return _OFF_PATH
            try:
                coerced = coerce(item)
            except Exception:
                return _OFF_PATH
            if coerced is None or coerced is Undefined:
                return _OFF_PATH
            completed.append(coerced)
        return completed


_LEAF_ITEMS: dict[GraphQLOutputType, LeafItems | None] = {}


def leaf_items_of(field_type: GraphQLOutputType) -> LeafItems | None:
    """The `LeafItems` of a list of leaves (nullable or not), None for any other type."""
    try:
        return _LEAF_ITEMS[field_type]
    except KeyError:
        pass
    listed = get_nullable_type(field_type)
    plan = None
    if isinstance(listed, GraphQLList):
        item_type = get_nullable_type(listed.of_type)
        if is_leaf_type(item_type):
            plan = LeafItems(
                _coercion_of(item_type), not isinstance(listed.of_type, GraphQLNonNull)
            )
    _LEAF_ITEMS[field_type] = plan
    return plan


@dataclass(frozen=True, slots=True)
class Attribute:
    """A field read off its source as an attribute, of a `Shape`d type: without the
    resolve info and strawberry's default resolver either."""

    read: Callable[[Any], Any]
    shape: Shape


def attribute_plan(field_def: GraphQLField) -> Attribute | None:
    """How to complete `field_def` as an `Attribute`, if it may be."""
    definition = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return None
    if definition.base_resolver is not None:
        return None
    if getattr(field_def.resolve, "__name__", "") != "_get_basic_result":
        return None
    shape = shape_of(field_def.type)
    return None if shape is None else Attribute(attrgetter(definition.python_name), shape)


@dataclass(frozen=True, slots=True)
class Call:
    """A field whose resolver is one of `lean_resolvers`': its body is called from
    `execute_fields` itself, without graphql-core's `execute_field` (the field's lookup,
    the middleware check, the wrappers' calls) and, for a body that reads neither the
    resolve info nor arguments, without building the info either."""

    body: Callable[..., Any]  # (source, a strawberry Info or the context, **arguments)
    field_def: GraphQLField
    definition: StrawberryField
    parent_type: GraphQLObjectType
    needs_info: bool  # the body is given a strawberry Info (else the operation's context)
    info_class: type[strawberry.Info] | None  # which, when not a `LazyInfo`
    eager: bool  # the body's result goes through `run_eagerly`, as `eager_resolvers` do
    shape: Shape | None
    # a leaf type's (coercion, whether null is allowed, the Python type whose exact
    # instances the coercion returns unchanged), or a list of leaves' `LeafItems`: such a
    # value is completed here, without `complete_value` (and so without a resolve info)
    leaf: tuple[Callable[[Any], Any], bool, type | None] | None
    leaf_items: LeafItems | None
    # the body's own function when it takes the source alone (`body(source, _)` is then
    # `of_source(source)`): called without the wrapper's frame
    of_source: Callable[[Any], Any] | None = None


def call_plan(parent_type: GraphQLObjectType, field_name: str) -> Call | None:
    """How to call `field_name`'s lean resolver directly, if it has one."""
    field_def = parent_type.fields.get(field_name)
    if field_def is None or field_def.resolve is None:
        return None
    lean = _LEAN_BODIES.get(field_def.resolve)
    if lean is None:
        return None
    body, needs_info, eager, info_class = lean
    field_type = field_def.type
    leaf_type = get_nullable_type(field_type)
    leaf = None
    if is_leaf_type(leaf_type):
        nullable = not isinstance(field_type, GraphQLNonNull)
        leaf = (_coercion_of(leaf_type), nullable, _UNCHANGED.get(leaf_type))
    definition = field_def.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
    return Call(
        body,
        field_def,
        definition,
        parent_type,
        needs_info,
        info_class,
        eager,
        shape_of(field_type),
        leaf,
        leaf_items_of(field_type),
        _SOURCE_ONLY.get(body),
    )


_CALLS: dict[tuple[GraphQLObjectType, str], Call | None] = {}


def _call(parent_type: GraphQLObjectType, field_name: str) -> Call | None:
    key = (parent_type, field_name)
    try:
        return _CALLS[key]
    except KeyError:
        plan = _CALLS[key] = call_plan(parent_type, field_name)
        return plan


def _strawberrys_type_check(check: Callable[..., Any]) -> bool:
    """strawberry's own `is_type_of` (an isinstance test of the object's classes), which
    reads nothing of the resolve info; anyone else's may, and keeps graphql-core's path."""
    return getattr(check, "__module__", "") == GraphQLCoreConverter.__module__ and (
        check.__qualname__.endswith("_get_is_type_of.<locals>.is_type_of")
    )


_ATTRIBUTES: dict[tuple[GraphQLObjectType, str], Attribute | None] = {}


def _attribute(parent_type: GraphQLObjectType, field_name: str) -> Attribute | None:
    return _planned(_ATTRIBUTES, attribute_plan, parent_type, field_name)


def _directed(details: FieldDetailsList) -> bool:
    """Whether a field carries a directive (@stream and the like: graphql-core's path)."""
    return any(d.node.directives for d in details)


# -- collected fields, across requests ------------------------------------------------
# A document is parsed once per text (portal/limits.py), so its nodes are the same objects
# in every request that sends it. The fields a selection collects for an object type depend
# on the document alone, unless a directive reads a variable (@skip(if: $x)), a fragment
# takes arguments, or delivery is incremental (@defer, @stream): such operations collect
# per request, as graphql-core does. Entries keep their field details (and so the nodes
# whose ids make their keys) alive; the cache is emptied when it grows past its bound.
_COLLECTED: dict[tuple[Any, ...], tuple[FieldDetailsList, CollectedFields]] = {}
_COLLECTED_BOUND = 20_000
_STATIC: dict[int, tuple[OperationDefinitionNode, bool]] = {}
# _COLLECTED's entries by (type, id of the field details list): the list is kept with it
_BY_LIST: dict[tuple[GraphQLObjectType, int], tuple[FieldDetailsList, CollectedFields]] = {}
# the field plans of the grouped field sets kept in _COLLECTED, by the set's id
_PLANNED: dict[int, tuple[GroupedFieldSet, FieldSetPlan]] = {}
# argument values given by the document alone, by their field node's id (see
# `_argument_values`); each entry keeps its node, so that its id is not reused
_ARGUMENTS: dict[int, tuple[FieldNode, GraphQLField, dict[str, Any]]] = {}
_IMMUTABLE = frozenset({str, int, float, bool, type(None)})
# the plans of operations' root fields, by the root type and the operation's id
_ROOT_PLANS: dict[tuple[GraphQLObjectType, int], tuple[OperationDefinitionNode, FieldSetPlan]] = {}


def _same_fields(plan: FieldSetPlan, grouped_field_set: GroupedFieldSet) -> bool:
    """Whether `plan` was made for the same fields, from the same nodes, in this order."""
    if len(plan.steps) != len(grouped_field_set):
        return False
    for step, (name, details) in zip(plan.steps, grouped_field_set.items(), strict=True):
        planned = step[1]
        if step[0] != name or len(planned) != len(details):
            return False
        if any(a.node is not b.node for a, b in zip(planned, details, strict=True)):
            return False
    return True


# the plan of the fields a list of field details collects for a type (see `_subplan`)
_SUBPLANS: dict[tuple[GraphQLObjectType, int], tuple[FieldDetailsList, FieldSetPlan | None]] = {}


def _collects_alike(operation: OperationDefinitionNode, fragments: dict[str, Any]) -> bool:
    """Whether `operation` collects the same fields in every request (see above)."""
    known = _STATIC.get(id(operation))
    if known is not None and known[0] is operation:
        return known[1]
    seen: set[str] = set()

    def alike(selection_set: SelectionSetNode | None) -> bool:
        for selection in selection_set.selections if selection_set is not None else ():
            for directive in selection.directives or ():
                if directive.name.value in ("defer", "stream"):
                    return False
                if any(_reads_variable(a.value) for a in directive.arguments or ()):
                    return False
            if isinstance(selection, FragmentSpreadNode):
                if getattr(selection, "arguments", None):
                    return False
                name = selection.name.value
                if name in seen:
                    continue
                seen.add(name)
                details = fragments.get(name)
                if details is None:
                    return False
                definition = details.definition
                if definition.directives or not alike(definition.selection_set):
                    return False
            elif not alike(getattr(selection, "selection_set", None)):
                return False
        return True

    static = not operation.directives and alike(operation.selection_set)
    if len(_STATIC) > _COLLECTED_BOUND:
        _STATIC.clear()
    _STATIC[id(operation)] = (operation, static)
    return static


def _reads_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_reads_variable(v) for v in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_reads_variable(f.value) for f in value.fields)
    return False


Step = tuple[str, FieldDetailsList, Leaf, Attribute | None, Call | None]


@dataclass(frozen=True, slots=True)
class FieldSetPlan:
    """An object type's grouped field set, planned: each field's step, in the answer's
    order, and `run`, which executes them all (see `_planned_run`)."""

    steps: tuple[Step, ...]
    run: Callable[..., None]
    kinds: tuple[tuple[Any, ...], ...] = ()


# An `Attribute` or `Call` step's subplan (`_subplan` of its object type and its field
# details, both fixed for the step), once an operation that collects alike found it: each
# plan's run holds one per such step (`_factory`), so the next object, item or request
# skips the lookup. Read only by operations that collect alike, which alone fill it.
Memo = list[FieldSetPlan]


def _field_plans(
    parent_type: GraphQLObjectType,
    fields: GroupedFieldSet,
    subplan: Callable[[GraphQLObjectType, FieldDetailsList], FieldSetPlan | None] | None = None,
) -> FieldSetPlan:
    """The plan of `fields` on `parent_type`. Given `subplan` (an operation that collects
    alike: its objects' fields are the same in every request), the fields of each object
    read as one attribute are planned too, and folded into this plan's code when they are
    all leaves (see `_foldable`)."""
    steps: list[Step] = []
    for name, details in fields.items():
        field_name = details[0].node.name.value
        leaf = _plan(parent_type, field_name)
        attribute = None if leaf is not None else _attribute(parent_type, field_name)
        call = None if leaf is not None or attribute is not None else _call(parent_type, field_name)
        if _directed(details):
            attribute = call = None  # @stream and the like: graphql-core's path
        steps.append((name, details, leaf, attribute, call))
    children: list[FieldSetPlan | None] = [None] * len(steps)
    if subplan is not None:
        for index, step in enumerate(steps):
            attribute = step[3]
            if attribute is not None and _inline_kind(parent_type, step)[0] == "object":
                child = subplan(attribute.shape.object_type, step[1])
                if child is not None and _foldable(child):
                    children[index] = child
    return _planned_run(parent_type, tuple(steps), tuple(children))


def _foldable(plan: FieldSetPlan) -> bool:
    """Whether an object's fields may run in its parent's generated code: all leaves (no
    object of its own, nothing `_step` dispatches), at most `_FOLD_BOUND` of them."""
    return 0 < len(plan.kinds) <= _FOLD_BOUND and all(kind[0] == "leaf" for kind in plan.kinds)


_FOLD_BOUND = 12  # (a small object: its code is written once more in each parent's)


# -- a grouped field set's steps as one generated function ------------------------------
# A leaf is read and checked inline (`type(v) is str`, an enum member's name by its id, a
# 32-bit int, a finite float, a null where one may be); whatever the check does not take
# goes to `_leaf_rest`, which does what the general path does with the value read, and
# every other field to `_step`. The code depends only on the steps' kinds and on the
# schema's attribute names (Python identifiers of our own types): response names (the
# document's aliases, which a client chooses) are never part of it, they are bound as
# constants. Functions are kept per kinds of steps, so an operation collected per request
# (see `_collects_alike`) makes no code, only a closure.
_INT_RANGE = "-2147483648 <= v <= 2147483647"
_CHECKS = {
    "str": "type(v) is str",
    "bool": "type(v) is bool",
    # (`isfinite`'s call is faster than a call-free `v - v == 0.0`, which makes a float)
    "float": "type(v) is float and isfinite(v)",
    "int": f"type(v) is int and {_INT_RANGE}",
}
_UNCHANGED_KINDS: dict[type, str] = {str: "str", bool: "bool", float: "float"}
_FACTORIES: dict[tuple[Any, ...], Callable[..., Callable[..., None]]] = {}
_FACTORIES_BOUND = 2_000


def _inline_kind(parent_type: GraphQLObjectType, step: Step) -> tuple[Any, ...]:
    """What `_factory` generates for a step: ("leaf", attribute name or None for a call of
    the reader, check, whether null is allowed); ("id", the attribute `node_id` returns,
    whether null is allowed) for a `global_id` (see `_global_id_plan`); ("object",
    attribute name, whether null is allowed, `Shape.plain`) for an `Attribute` of one
    object, ("attribute",) for any other `Attribute`, ("call",) for a `Call` (each of
    those three only outside a deferred fragment), or ("step",) for anything else."""
    leaf, attribute_step, call = step[2], step[3], step[4]
    if leaf is None:
        if attribute_step is not None:
            shape = attribute_step.shape
            name = _python_name(parent_type, step)
            if shape.item_type is None and name is not None:
                return ("object", name, shape.nullable, shape.plain)
            return ("attribute",)
        return ("call",) if call is not None else ("step",)
    _read, coerce, nullable, called, unchanged = leaf
    identified = _global_id_plan(parent_type, step)
    if identified is not None:
        return ("id", _returned_attribute(getattr(identified[0], "node_id", None)), nullable)
    attribute = None if called else _python_name(parent_type, step)
    if unchanged is not None:
        check = _UNCHANGED_KINDS[unchanged]
    elif coerce in _NAMED_AS_MEMBERS:
        check = "member"  # an instance of exactly the enum's class: its `_name_`
    elif coerce in _MEMBER_NAMES:
        check = "enum"
    elif coerce is GraphQLInt.coerce_output_value:  # (a function, not a bound method)
        check = "int"
    elif attribute is not None:
        check = "coerce"  # the type's coercion, called here; its refusal said by `rest`
    else:
        check = ""  # a reader's value may be awaitable: `_leaf_rest` sees to it
    return ("leaf", attribute, check, nullable)


def _python_name(parent_type: GraphQLObjectType, step: Step) -> str | None:
    """The attribute a step's field reads, when it may be written in code (`_factory`)."""
    field_def = parent_type.fields[step[1][0].node.name.value]
    definition = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    name = getattr(definition, "python_name", None)
    if isinstance(name, str) and name.isidentifier() and not iskeyword(name):
        return name
    return None


def _planned_run(
    parent_type: GraphQLObjectType,
    steps: tuple[Step, ...],
    children: tuple[FieldSetPlan | None, ...] = (),
) -> FieldSetPlan:
    """The plan of `steps`, whose `run(executor, source, path, parent_type,
    position_context, results, waiting)` puts each step's completed value in `results`
    under its response name, in order, and appends the names of those still awaited to
    `waiting`. `children`: per step, the plan of the object it reads, to run inline."""
    children = children or (None,) * len(steps)
    kinds = tuple(
        _inline_kind(parent_type, step)
        if child is None
        else ("fold", *_inline_kind(parent_type, step)[1:], child.kinds)
        for step, child in zip(steps, children, strict=True)
    )
    factory = _FACTORIES.get(kinds)
    if factory is None:
        if len(_FACTORIES) > _FACTORIES_BOUND:
            _FACTORIES.clear()
        factory = _FACTORIES[kinds] = _factory(kinds)
    tables = _tables(parent_type, steps)
    folded = tuple(
        None if child is None else (child.steps, *_tables(_step_type(step), child.steps))
        for step, child in zip(steps, children, strict=True)
    )
    return FieldSetPlan(steps, factory(steps, *tables, folded), kinds)


def _step_type(step: Step) -> GraphQLObjectType:
    """The object type of an "object" step's value."""
    assert step[3] is not None  # noqa: S101 - only attribute steps are folded
    return step[3].shape.object_type


def _tables(parent_type: GraphQLObjectType, steps: tuple[Step, ...]) -> tuple[tuple[Any, ...], ...]:
    """What the generated code binds per step: readers, enum names by id, coercions, enum
    classes named as in Python, global id plans (see `_factory`)."""
    readers = tuple(step[2][0] if step[2] is not None else None for step in steps)
    names = tuple(_MEMBER_NAMES.get(step[2][1]) if step[2] is not None else None for step in steps)
    coercions = tuple(step[2][1] if step[2] is not None else None for step in steps)
    enums = tuple(_NAMED_AS_MEMBERS.get(coercion) for coercion in coercions)  # type: ignore[arg-type]
    ids = tuple(_global_id_plan(parent_type, step) for step in steps)
    return readers, names, coercions, enums, ids


_RUN_ARGUMENTS = "self, source, path, parent_type, position_context, results, waiting"
_STEP_PLAN = {"attribute": 3, "object": 3, "fold": 3, "call": 4}  # where a step holds its plan


def _object_read(i: int, name: str, nullable: bool, plain: bool) -> tuple[list[str], str]:
    """The start of an "object" or "fold" step: the attribute read, a null where one may
    be, and the test (after `keyword`) of an object whose fields run inline: one of
    exactly the type's class, not cast, in an operation that collects alike."""
    # not cast: for a `Shape.plain` class, the mark is not in the instance's own dict
    uncast = "CAST not in v.__dict__" if plain else "getattr(v, CAST, None) is None"
    lines = [
        "        if position_context is None:",
        "            try:",
        f"                v = source.{name}",
        "            except Exception:",
        "                v = OFF_PATH",
    ]
    keyword = "if"
    if nullable:
        lines += ["            if v is None:", f"                results[K{i}] = None"]
        keyword = "elif"
    return lines, f"            {keyword} type(v) is O{i} and self._collects_alike and {uncast}"


def _object_rest(i: int, arguments: str) -> list[str]:
    """The end of an "object" or "fold" step: anything else through
    `_complete_attribute`, which sees to it."""
    return [
        "            else:",
        f"                c = attribute(self, P{i}, D{i}, path, K{i}, parent_type, source, U{i})",
        "                if c is OFF_PATH:",
        f"                    into(self, S{i}, {arguments})",
        "                else:",
        f"                    results[K{i}] = c",
        "                    if type(c) not in SETTLED and self.is_awaitable(c):",
        f"                        waiting.append(K{i})",
    ]


def _object_step(index: int, name: str, nullable: bool, plain: bool, arguments: str) -> list[str]:
    """The code of an "object" step: `_complete_attribute` of one object, inline, for an
    object of exactly the type's class (not cast) whose fields' plan the step holds
    (`Memo`); anything else through `_complete_attribute`, which sees to it."""
    i = index
    lines, test = _object_read(i, name, nullable, plain)
    return [
        *lines,
        f"{test} and U{i}:",
        f"                p = new_path((path, K{i}, parent_type.name))",
        "                f = {}",
        "                w = []",
        "                try:",
        f"                    U{i}[0].run(self, v, p, T{i}, None, f, w)",
        "                except Exception as e:",
        "                    if w:  # settle what other fields started: they may fail too",
        "                        self.settle_in_background([f[n] for n in w])",
        f"                    self.handle_field_error(e, F{i}, D{i}, p)",
        f"                    results[K{i}] = None",
        "                else:",
        "                    if w:",
        f"                        c = self._settle_field(completed(f, w), F{i}, D{i}, p)",
        f"                        results[K{i}] = c",
        f"                        waiting.append(K{i})",
        "                    else:",
        f"                        results[K{i}] = f",
        *_object_rest(i, arguments),
    ]


def _fold_step(index: int, kind: tuple[Any, ...], arguments: str) -> tuple[list[str], list[str]]:
    """The binds and code of a "fold" step: an "object" step whose object's fields (all
    leaves, see `_foldable`) are read and checked here, from the object `o` into `f`, as
    its own field set's `run` would (what their checks do not take goes to `_leaf_rest`
    at the object's path, made only then); anything else as an "object" step."""
    i = index
    _fold, name, nullable, plain, child_kinds = kind
    lines, test = _object_read(i, name, nullable, plain)
    binds: list[str] = []
    body: list[str] = []
    here = f"new_path((path, K{i}, parent_type.name))"
    for j, child_kind in enumerate(child_kinds):
        label = f"{i}_{j}"
        rest = f"rest(self, S{label}, v, o, {here}, T{i}, None, f, w)"
        child_binds, child_body = _leaf_step(
            label,
            child_kind,
            {table: f"children[{i}][{at}][{j}]" for table, at in _TABLE.items()},
            "o",
            "f",
            rest,
        )
        binds += child_binds
        body += ["            " + line for line in child_body]
    code = [
        *lines,
        f"{test}:",
        "                o = v",
        "                f = {}",
        "                w = []",
        "                try:",
        *body,
        "                except Exception as e:",
        f"                    p = {here}",
        "                    if w:  # settle what other fields started: they may fail too",
        "                        self.settle_in_background([f[n] for n in w])",
        f"                    self.handle_field_error(e, F{i}, D{i}, p)",
        f"                    results[K{i}] = None",
        "                else:",
        "                    if w:",
        f"                        c = self._settle_field(completed(f, w), F{i}, D{i}, {here})",
        f"                        results[K{i}] = c",
        f"                        waiting.append(K{i})",
        "                    else:",
        f"                        results[K{i}] = f",
        *_object_rest(i, arguments),
    ]
    return binds, code


# where `make`'s arguments (and a folded object's tables in `children`) hold each table
_TABLE = {"steps": 0, "readers": 1, "names": 2, "coercions": 3, "enums": 4, "ids": 5}


def _leaf_step(
    label: str,
    kind: tuple[Any, ...],
    at: dict[str, str],
    source: str,
    results: str,
    rest: str,
) -> tuple[list[str], list[str]]:
    """The binds and code (indented for `run`'s body) of a "leaf" or "id" step, labelled
    `label`, reading `source` into `results`; `at[table]`, where its entry of a table
    is bound from; `rest`, the call for what the inline check does not take."""
    binds = [f"    S{label} = {at['steps']}; K{label} = S{label}[0]"]
    body: list[str] = []
    if kind[0] == "id":  # the resolver's own result, without its frame nor node_id's
        binds.append(f"    R{label} = {at['readers']}")
        binds.append(f"    O{label}, G{label} = {at['ids']}; N{label} = O{label}.__name__")
        body += [
            "        try:",
            f"            if type({source}) is O{label}:",
            f"                n = {source}.{kind[1]}",
            f"                v = G{label}(N{label}, n) if type(n) is str else R{label}({source})",
            "            else:",
            f"                v = R{label}({source})",
            "        except Exception:",
            "            v = UNDEFINED",
            "        if type(v) is str:",
            f"            {results}[K{label}] = v",
        ]
        if kind[2]:
            body += ["        elif v is None:", f"            {results}[K{label}] = None"]
        body += ["        else:", f"            {rest}"]
        return binds, body
    _leaf, attribute, check, nullable = kind
    if attribute is None:
        binds.append(f"    R{label} = {at['readers']}")
        read = f"R{label}({source})"
    else:
        read = f"{source}.{attribute}"
    body += [
        "        try:",
        f"            v = {read}",
        "        except Exception:",
        "            v = UNDEFINED",
    ]
    keyword = "if"
    if check == "member":
        binds.append(f"    E{label} = {at['enums']}")
        body += [
            f"        if type(v) is E{label}:",
            f"            {results}[K{label}] = v._name_",
        ]
        keyword = "elif"
    elif check == "enum":
        binds.append(f"    M{label} = {at['names']}")
        body += [
            f"        n = M{label}.get(id(v))",
            "        if n is not None:",
            f"            {results}[K{label}] = n",
        ]
        keyword = "elif"
    elif check and check != "coerce":
        body += [f"        if {_CHECKS[check]}:", f"            {results}[K{label}] = v"]
        keyword = "elif"
    if nullable:
        body += [f"        {keyword} v is None:", f"            {results}[K{label}] = None"]
        keyword = "elif"
    if check == "coerce":
        binds.append(f"    C{label} = {at['coercions']}; V{label} = _usual(C{label})")
        body += [
            f"        {keyword} type(v) is V{label} or"
            " (v is not UNDEFINED and not isinstance(v, Exception)):",
            "            try:",
            f"                c = C{label}(v)",
            "            except Exception:",
            "                c = None",
            "            if c is not None and c is not UNDEFINED:",
            f"                {results}[K{label}] = c",
            "            else:",
            f"                {rest}",
        ]
        keyword = "elif"
    if keyword == "if":
        body.append(f"        {rest}")
    else:
        body += ["        else:", f"            {rest}"]
    return binds, body


def _factory(kinds: tuple[tuple[Any, ...], ...]) -> Callable[..., Callable[..., None]]:
    binds: list[str] = []
    body: list[str] = []
    arguments = _RUN_ARGUMENTS[6:]
    for index, kind in enumerate(kinds):
        step = f"step(self, S{index}, {arguments})"
        if kind[0] in ("leaf", "id"):
            leaf_binds, leaf_body = _leaf_step(
                str(index),
                kind,
                {table: f"{table}[{index}]" for table in _TABLE},
                "source",
                "results",
                f"rest(self, S{index}, v, {arguments})",
            )
            binds += leaf_binds
            body += leaf_body
            continue
        binds.append(f"    S{index} = steps[{index}]; K{index} = S{index}[0]")
        if kind[0] == "step":
            body.append(f"        {step}")
            continue
        binds.append(f"    D{index} = S{index}[1]; P{index} = S{index}[{_STEP_PLAN[kind[0]]}]")
        binds.append(f"    U{index} = []")  # the step's subplan, once known (`Memo`)
        if kind[0] in ("object", "fold"):
            binds.append(
                f"    O{index} = P{index}.shape.origin; T{index} = P{index}.shape.object_type;"
                f" F{index} = P{index}.shape.field_type"
            )
        if kind[0] == "object":
            body += _object_step(index, kind[1], kind[2], kind[3], arguments)
        elif kind[0] == "fold":
            fold_binds, fold_body = _fold_step(index, kind, arguments)
            binds += fold_binds
            body += fold_body
        elif kind[0] == "attribute":
            body += [
                "        if position_context is None:",
                f"            c = attribute(self, P{index}, D{index}, path, K{index},"
                f" parent_type, source, U{index})",
                "            if c is OFF_PATH:",
                f"                into(self, S{index}, {arguments})",
                "            else:",
                f"                results[K{index}] = c",
                "                if type(c) not in SETTLED and self.is_awaitable(c):",
                f"                    waiting.append(K{index})",
            ]
        else:
            binds.append(f"    N{index} = to_nodes(D{index})")
            body += [
                "        if position_context is None:",
                f"            c = call(self, P{index}, D{index}, N{index},"
                f" new_path((path, K{index}, parent_type.name)), source, U{index})",
                f"            results[K{index}] = c",
                "            if type(c) is COROUTINE or"
                " (type(c) not in SETTLED and self.is_awaitable(c)):",
                f"                waiting.append(K{index})",
            ]
        body += ["        else:", f"            {step}"]
    source = "\n".join(
        [
            "def make(steps, readers, names, coercions, enums, ids, children):",
            *binds,
            f"    def run({_RUN_ARGUMENTS}):",
            *(body or ["        pass"]),
            "    return run",
        ]
    )
    namespace: dict[str, Any] = {
        "rest": PortalExecutionContext._leaf_rest,
        "step": PortalExecutionContext._step,
        "into": PortalExecutionContext._execute_field_into,
        "attribute": PortalExecutionContext._complete_attribute,
        "call": PortalExecutionContext._call_lean,
        "to_nodes": to_nodes,
        "new_path": new_path,
        "OFF_PATH": _OFF_PATH,
        "CAST": TYPE_CAST_ATTRIBUTE,
        "completed": _completed,
        "SETTLED": _SETTLED,
        "UNDEFINED": Undefined,
        "isfinite": isfinite,
        "COROUTINE": CoroutineType,  # (what a lean field's awaitable usually is: no check)
        "_usual": _usual_type,
    }
    exec(compile(source, "<schema.execution field set>", "exec"), namespace)  # noqa: S102
    factory: Callable[..., Callable[..., None]] = namespace["make"]
    return factory


class _Nothing:
    """A type no value read is an instance of exactly (see `_usual_type`)."""


def _usual_type(coerce: Callable[[Any], Any]) -> type:
    """The type of the values a coercion is usually given, when it says so and is no
    exception (`datetime.isoformat`, a method of its class, says `datetime`): a value of
    exactly that type is coerced without the check for an exception value first."""
    owner = getattr(coerce, "__objclass__", None)
    if (
        isinstance(owner, type)
        and not issubclass(owner, BaseException)
        and owner is not type(Undefined)
    ):
        return owner
    return _Nothing


async def _completed(results: dict[str, Any], waiting: list[str]) -> dict[str, Any]:
    """`results` once its awaitable values (fields named in `waiting`) have settled."""
    if len(waiting) == 1:
        results[waiting[0]] = await results[waiting[0]]
    else:
        settled = await gather_with_cancel(*(results[name] for name in waiting))
        results.update(zip(waiting, settled, strict=True))
    return results


async def _completed_items(items: list[Any], waiting: list[int]) -> list[Any]:
    """`items` once its awaitable items (at the indexes in `waiting`) have settled."""
    if len(waiting) == 1:
        items[waiting[0]] = await items[waiting[0]]
    else:
        settled = await gather_with_cancel(*(items[index] for index in waiting))
        for index, value in zip(waiting, settled, strict=True):
            items[index] = value
    return items


_OFF_PATH: Any = object()
# `Path(prev, key, typename)` without the Python frame of a NamedTuple's `__new__` (~180 a
# dashboard): `new_path((prev, key, typename))` makes the same tuple
new_path: Callable[[tuple[Path | None, str | int, str | None]], Path] = partial(tuple.__new__, Path)


def _complete_leaf(leaf: tuple[Callable[[Any], Any], bool, type | None], value: Any) -> Any:
    """A leaf's completed value, as graphql-core's `complete_value` gives it, or
    `_OFF_PATH` when that would raise (a null where none may be, an exception, a value
    the type refuses): graphql-core's path then says what is wrong at its path."""
    coerce, nullable, unchanged = leaf
    if value is None:
        return None if nullable else _OFF_PATH
    if type(value) is unchanged and (unchanged is not float or isfinite(value)):  # type: ignore[arg-type]
        return value
    if isinstance(value, Exception):
        return _OFF_PATH
    try:
        coerced = coerce(value)
    except Exception:  # refused: graphql-core's path says so at its path
        return _OFF_PATH
    return _OFF_PATH if coerced is None or coerced is Undefined else coerced


# what a completed field usually is, never awaitable: asked before the awaitable check's call
_SETTLED = frozenset({dict, list, type(None), str, int, float, bool})


class PortalExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # A middleware wraps every resolver: then every field takes graphql-core's path.
        self.short_path = manager is None or not manager.middlewares
        self.async_helpers = _helpers_of(self)
        # per grouped field set of this request (a list's items share one): its fields,
        # each with its leaf plan; the set itself is kept so that its id is not reused
        self._field_plans: dict[int, tuple[GroupedFieldSet, FieldSetPlan]] = {}
        self._collects_alike = _collects_alike(self.operation, self.fragments)

    def collect_subfields(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> CollectedFields:
        """graphql-core's, kept across requests for an operation that collects alike."""
        if not self._collects_alike:
            return super().collect_subfields(return_type, field_details_list)
        # the same list of field details (one kept in an entry of _COLLECTED: below the
        # root, every list is) gives the same fields, found without making the key
        known = _BY_LIST.get((return_type, id(field_details_list)))
        if known is not None and known[0] is field_details_list:
            return known[1]
        key = (return_type, *[id(details.node) for details in field_details_list])
        entry = _COLLECTED.get(key)
        if entry is not None:
            # (a list of the root's fields is new in each request: bound what they add)
            if len(_BY_LIST) > _COLLECTED_BOUND:
                _BY_LIST.clear()
                _SUBPLANS.clear()
            _BY_LIST[(return_type, id(field_details_list))] = (field_details_list, entry[1])
            return entry[1]
        collected = super().collect_subfields(return_type, field_details_list)
        if len(_COLLECTED) > _COLLECTED_BOUND or len(_BY_LIST) > _COLLECTED_BOUND:
            _COLLECTED.clear()
            _PLANNED.clear()
            _BY_LIST.clear()
            _SUBPLANS.clear()
        _COLLECTED[key] = (field_details_list, collected)
        _BY_LIST[(return_type, id(field_details_list))] = (field_details_list, collected)
        grouped_field_set = collected.grouped_field_set
        _PLANNED[id(grouped_field_set)] = (
            grouped_field_set,
            _field_plans(return_type, grouped_field_set, self._subplan),
        )
        return collected

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """An object's fields, as graphql-core executes them, with each leaf on the short
        path read in this loop: no `Path`, no call of `execute_field`, no awaitable check
        of a value already coerced. A leaf off the short path (see `execute_field`) and
        every other field go through `execute_field` at their own path."""
        if not self.short_path:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        if path is None:
            plan = self._root_plan(parent_type, grouped_field_set)
        else:
            plan = self._field_set_plan(parent_type, grouped_field_set)
        return self._run_object(plan, parent_type, path, source_value, position_context)

    def _field_set_plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> FieldSetPlan:
        planned = _PLANNED.get(id(grouped_field_set)) or self._field_plans.get(
            id(grouped_field_set)
        )
        if planned is None or planned[0] is not grouped_field_set:
            planned = (grouped_field_set, _field_plans(parent_type, grouped_field_set))
            self._field_plans[id(grouped_field_set)] = planned
        return planned[1]

    def _root_plan(
        self, root_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> FieldSetPlan:
        """The plan of the operation's root fields: graphql-core collects them anew in
        each request, the same fields from the same nodes for an operation that collects
        alike; its plan (the first request's field details in it) is kept for the next."""
        if not self._collects_alike:
            return self._field_set_plan(root_type, grouped_field_set)
        operation = self.operation
        key = (root_type, id(operation))
        known = _ROOT_PLANS.get(key)
        if (
            known is not None
            and known[0] is operation
            and _same_fields(known[1], grouped_field_set)
        ):
            return known[1]
        plan = _field_plans(root_type, grouped_field_set, self._subplan)
        if all(
            details.fragment_variable_values is None and details.defer_usage is None
            for field_details in grouped_field_set.values()
            for details in field_details
        ):
            if len(_ROOT_PLANS) > _COLLECTED_BOUND:
                _ROOT_PLANS.clear()
            _ROOT_PLANS[key] = (operation, plan)
        return plan

    def _subplan(
        self, object_type: GraphQLObjectType, details: FieldDetailsList, memo: Memo | None = None
    ) -> FieldSetPlan | None:
        """The plan of the fields `details` select on an object of `object_type` (what
        `collect_subfields` then `execute_fields` find), or None when some are deferred.
        Kept across requests for an operation that collects alike, by the list itself, and
        in `memo`, the step's own (see `Memo`)."""
        if self._collects_alike:
            known = _SUBPLANS.get((object_type, id(details)))
            if known is not None and known[0] is details:
                if memo is not None and not memo and known[1] is not None:
                    memo.append(known[1])
                return known[1]
        grouped_field_set, defer_usages, _forbidden = self.collect_subfields(object_type, details)
        plan = None if defer_usages else self._field_set_plan(object_type, grouped_field_set)
        if self._collects_alike:
            if len(_SUBPLANS) > _COLLECTED_BOUND:
                _SUBPLANS.clear()
            _SUBPLANS[(object_type, id(details))] = (details, plan)
            if memo is not None and not memo and plan is not None:
                memo.append(plan)
        return plan

    def _run_object(
        self,
        plan: FieldSetPlan,
        object_type: GraphQLObjectType,
        path: Path | None,
        value: Any,
        position_context: Any = None,
    ) -> Any:
        """`execute_fields` of an object whose fields' plan is known."""
        results: dict[str, Any] = {}
        waiting: list[str] = []
        try:
            plan.run(self, value, path, object_type, position_context, results, waiting)
        except Exception:
            if waiting:  # settle what other fields started: they may fail too
                self.settle_in_background([results[name] for name in waiting])
            raise
        if not waiting:
            return results
        return _completed(results, waiting)

    def _step(
        self,
        step: Step,
        source: Any,
        path: Path | None,
        parent_type: GraphQLObjectType,
        position_context: Any,
        results: dict[str, Any],
        waiting: list[str],
    ) -> None:
        """A field other than a leaf (see `_planned_run`): a `Call`, an `Attribute`, or
        graphql-core's `execute_field` at its path."""
        name, details, _leaf, attribute, call = step
        if position_context is None:
            if call is not None:
                completed = self._call_lean(
                    call, details, to_nodes(details), Path(path, name, parent_type.name), source
                )
                results[name] = completed
                if type(completed) not in _SETTLED and self.is_awaitable(completed):
                    waiting.append(name)
                return
            if attribute is not None:
                completed = self._complete_attribute(
                    attribute, details, path, name, parent_type, source
                )
                if completed is not _OFF_PATH:
                    results[name] = completed
                    if type(completed) not in _SETTLED and self.is_awaitable(completed):
                        waiting.append(name)
                    return
        self._execute_field_into(
            step, source, path, parent_type, position_context, results, waiting
        )

    def _leaf_rest(
        self,
        step: Step,
        value: Any,
        source: Any,
        path: Path | None,
        parent_type: GraphQLObjectType,
        position_context: Any,
        results: dict[str, Any],
        waiting: list[str],
    ) -> None:
        """A leaf whose value (`Undefined`: its read raised) the inline check did not
        take: coerced here if it may be; a resolver's awaitable awaited by graphql-core;
        anything unusual (a null where none may be, an exception, a value the type
        refuses) to graphql-core's `execute_field`, which reads it again and says what is
        wrong at its path."""
        name, details, leaf, _attribute, _call = step
        assert leaf is not None  # noqa: S101 - only leaves are given here
        _read, coerce, nullable, called, unchanged = leaf
        if value is not Undefined:
            if type(value) is unchanged and (
                unchanged is not float or isfinite(value)  # type: ignore[arg-type]
            ):
                results[name] = value
                return
            if value is None:
                if nullable:
                    results[name] = None
                    return
            elif called and self.is_awaitable(value):
                results[name] = self._complete_later(
                    parent_type,
                    details,
                    Path(path, name, parent_type.name),
                    value,
                    position_context,
                )
                waiting.append(name)
                return
            elif not isinstance(value, Exception):
                try:
                    coerced = coerce(value)
                except Exception:  # refused: said at its path below
                    coerced = None
                if coerced is not None and coerced is not Undefined:
                    results[name] = coerced
                    return
        self._execute_field_into(
            step, source, path, parent_type, position_context, results, waiting
        )

    def _execute_field_into(
        self,
        step: Step,
        source: Any,
        path: Path | None,
        parent_type: GraphQLObjectType,
        position_context: Any,
        results: dict[str, Any],
        waiting: list[str],
    ) -> None:
        name, details = step[0], step[1]
        result = StrawberryGraphQLCoreExecutionContext.execute_field(
            self, parent_type, source, details, Path(path, name, parent_type.name), position_context
        )
        if result is not Undefined:
            results[name] = result
            if type(result) not in _SETTLED and self.is_awaitable(result):
                waiting.append(name)

    def _call_lean(
        self,
        call: Call,
        details: FieldDetailsList,
        nodes: list[FieldNode],
        path: Path,
        source: Any,
        memo: Memo | None = None,
    ) -> Any:
        """A `Call` field's completed value (or an awaitable of it), as graphql-core's
        `execute_field` gives it: the same arguments, the same result (eagerly run), its
        errors reported at `path` (a non-null field's raised to its parent). A value of a
        `Shape` that fits it goes straight into the object's fields (awaited first, if
        it must be); any other value is completed by `complete_value` with a resolve info."""
        field_def = call.field_def
        info: GraphQLResolveInfo[Any] | None = None  # graphql-core's, when one is needed
        if not call.needs_info:
            given: Any = self.context_value
        elif call.info_class is None:  # a `LazyInfo` (~25 a dashboard)
            given = _new_object(LazyInfo)
            given.context = self.context_value
            given._field = call.definition
            given._making = (self, field_def, nodes, call.parent_type, path)
        else:
            info = self.build_resolve_info(field_def, nodes, call.parent_type, path)
            given = call.info_class(_raw_info=info, _field=call.definition)
        try:
            if field_def.args:
                result = call.body(source, given, **self._argument_values(field_def, details[0]))
            elif call.of_source is not None:
                result = call.of_source(source)
            else:
                result = call.body(source, given)
            shape, kind = call.shape, type(result)
            if call.eager and kind not in _SETTLED:  # `run_eagerly`, inline
                if kind is CoroutineType:
                    try:
                        pending = result.send(None)
                    except StopIteration as stop:
                        result = stop.value
                    else:
                        if isinstance(pending, Future):  # (see `run_eagerly`)
                            pending._asyncio_future_blocking = False
                        resumed = Resumed(result, pending)
                        return self._call_later(call, details, nodes, path, resumed, memo, info)
                elif (
                    (shape is None or kind is not shape.origin)
                    and isinstance(result, Future)
                    and result.done()
                ):
                    result = result.result()
                kind = type(result)
            # (awaited first: a type without `is_type_of` fits anything, an awaitable too)
            if (
                kind not in _SETTLED
                and (shape is None or kind is not shape.origin)
                and self.is_awaitable(result)
            ):
                return self._call_later(call, details, nodes, path, result, memo, info)
            # the commonest completions of `_complete_called`, inline: a leaf given as it
            # is, one object of exactly the type's class (not cast), a list that fits
            leaf = call.leaf
            if leaf is not None and kind is leaf[2] and kind is not float:
                completed = result
            elif (
                shape is not None
                and kind is shape.origin
                and shape.item_type is None
                and (
                    TYPE_CAST_ATTRIBUTE not in result.__dict__
                    if shape.plain
                    else getattr(result, TYPE_CAST_ATTRIBUTE, None) is None
                )
            ):
                plan: FieldSetPlan | None
                if memo and self._collects_alike:
                    plan = memo[0]
                else:
                    plan = self._subplan(shape.object_type, details, memo)
                if plan is not None:  # `_run_object`, inline
                    fields: dict[str, Any] = {}
                    waiting: list[str] = []
                    try:
                        plan.run(self, result, path, shape.object_type, None, fields, waiting)
                    except Exception:
                        if waiting:  # settle what other fields started: they may fail too
                            self.settle_in_background([fields[name] for name in waiting])
                        raise
                    completed = _completed(fields, waiting) if waiting else fields
                else:
                    completed = self._complete_object(shape.object_type, details, path, result)
            elif shape is not None and shape.item_type is not None:
                fits = kind is list or kind is tuple
                if fits and shape.plain:  # `Shape.fits`, inline for a plain class's items
                    origin = shape.origin
                    for item in result:
                        if type(item) is not origin or TYPE_CAST_ATTRIBUTE in item.__dict__:
                            fits = shape.fits(result)  # (a null, another class: it says)
                            break
                elif fits:
                    fits = shape.fits(result)
                if fits:
                    completed = self._complete_items(
                        shape.object_type, shape.item_type, details, path, result, memo
                    )
                else:
                    completed = self._complete_called(
                        call, details, nodes, path, result, memo, info
                    )
            else:
                completed = self._complete_called(call, details, nodes, path, result, memo, info)
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_def.type, details, path)
            return None
        if type(completed) is CoroutineType or (
            type(completed) not in _SETTLED and self.is_awaitable(completed)
        ):
            return self._settle_field(completed, field_def.type, details, path)
        return completed

    def _complete_called(
        self,
        call: Call,
        details: FieldDetailsList,
        nodes: list[FieldNode],
        path: Path,
        result: Any,
        memo: Memo | None,
        info: GraphQLResolveInfo[Any] | None,
    ) -> Any:
        """A `Call` field's value (not awaitable) completed: a leaf, a list of leaves or a
        value of a `Shape` that fits it here; anything else (and anything wrong, which it
        reports) by `complete_value`, with a resolve info. Raises what that raises."""
        leaf, leaf_items, shape = call.leaf, call.leaf_items, call.shape
        completed = _OFF_PATH
        if leaf is not None:
            completed = _complete_leaf(leaf, result)
        elif leaf_items is not None:
            completed = leaf_items.complete(result)
        elif (
            shape is not None
            and result is not None
            and (
                (  # `Shape.fits`' own first test, without its call
                    type(result) is shape.origin
                    and shape.item_type is None
                    and getattr(result, TYPE_CAST_ATTRIBUTE, None) is None
                )
                or shape.fits(result)
            )
        ):
            if shape.item_type is None:  # `_complete_shaped`, inline
                completed = self._complete_object(shape.object_type, details, path, result, memo)
            else:
                completed = self._complete_items(
                    shape.object_type, shape.item_type, details, path, result, memo
                )
        if completed is _OFF_PATH:
            field_def = call.field_def
            if info is None:
                info = self.build_resolve_info(field_def, nodes, call.parent_type, path)
            completed = self.complete_value(field_def.type, details, info, path, result, None)
        return completed

    async def _call_later(
        self,
        call: Call,
        details: FieldDetailsList,
        nodes: list[FieldNode],
        path: Path,
        awaitable: Awaitable[Any],
        memo: Memo | None,
        info: GraphQLResolveInfo[Any] | None,
    ) -> Any:
        """graphql-core's `complete_awaitable_value` of a `Call` field's result, completed
        as `_complete_called` completes it: no resolve info unless one is needed."""
        try:
            resolved = await self.with_abort_signal(awaitable)
            completed = self._complete_called(call, details, nodes, path, resolved, memo, info)
            if type(completed) not in _SETTLED and self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, call.field_def.type, details, path)
            completed = None
        return completed

    def _argument_values(self, field_def: GraphQLField, first: FieldDetails) -> dict[str, Any]:
        """graphql-core's `get_argument_values`; kept per field node when they are the
        document's alone (no variable read, no fragment's variables) and each value is
        immutable (a scalar's or an enum's), so that no body sees another's changes."""
        node = first.node
        known = _ARGUMENTS.get(id(node))
        if known is not None and known[0] is node and known[1] is field_def:
            return known[2]
        values = get_argument_values(
            field_def,
            node,
            self.variable_values,
            first.fragment_variable_values,
            self.hide_suggestions,
        )
        if (
            first.fragment_variable_values is None
            and not any(_reads_variable(argument.value) for argument in node.arguments or ())
            and all(
                type(value) in _IMMUTABLE or isinstance(value, Enum) for value in values.values()
            )
        ):
            if len(_ARGUMENTS) > _COLLECTED_BOUND:
                _ARGUMENTS.clear()
            _ARGUMENTS[id(node)] = (node, field_def, values)
        return values

    def _complete_attribute(
        self,
        plan: Attribute,
        details: FieldDetailsList,
        parent_path: Path | None,
        name: str,
        parent_type: GraphQLObjectType,
        source: Any,
        memo: Memo | None = None,
    ) -> Any:
        """The completed value of an `Attribute` field, or `_OFF_PATH` when anything about
        it is unusual (a failing read, a null where none may be, a value its `Shape` does
        not fit): graphql-core's path then reads the attribute again and says what is
        wrong at its path. Errors of the object's own fields are handled as graphql-core's
        `execute_field` handles them."""
        shape = plan.shape
        try:
            value = plan.read(source)
        except Exception:
            return _OFF_PATH
        if value is None:
            return None if shape.nullable else _OFF_PATH
        if (
            type(value) is not shape.origin
            or shape.item_type is not None
            or getattr(value, TYPE_CAST_ATTRIBUTE, None) is not None
        ) and not shape.fits(value):
            return _OFF_PATH
        path = new_path((parent_path, name, parent_type.name))
        object_type = shape.object_type
        try:
            if shape.item_type is not None:
                completed = self._complete_items(
                    object_type, shape.item_type, details, path, value, memo
                )
            else:  # `_complete_object`, inline: most attribute fields are one object
                fields: FieldSetPlan | None
                if memo and self._collects_alike:
                    fields = memo[0]
                else:
                    fields = self._subplan(object_type, details, memo)
                if fields is not None:
                    completed = self._run_object(fields, object_type, path, value)
                else:
                    completed = self._complete_object(object_type, details, path, value)
        except Exception as raw_error:
            self.handle_field_error(raw_error, shape.field_type, details, path)
            return None
        if type(completed) not in _SETTLED and self.is_awaitable(completed):
            return self._settle_field(completed, shape.field_type, details, path)
        return completed

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's, but a value of a `Shape`d type that fits it (a resolver's
        object or list of objects) goes straight into the object's fields."""
        shape = shape_of(return_type) if self.short_path else None
        if shape is None and self.short_path and position_context is None:
            leaves = leaf_items_of(return_type)
            if leaves is not None and not _directed(field_details_list):
                completed = leaves.complete(result)
                if completed is not _OFF_PATH:
                    return completed
        if (
            shape is None
            or position_context is not None  # inside a deferred fragment (incremental)
            or result is None
            or not shape.fits(result)
            or (shape.item_type is not None and _directed(field_details_list))
        ):
            return super().complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
        return self._complete_shaped(shape, field_details_list, path, result)

    def _complete_shaped(
        self,
        shape: Shape,
        details: FieldDetailsList,
        path: Path,
        value: Any,
        memo: Memo | None = None,
    ) -> Any:
        if shape.item_type is None:
            return self._complete_object(shape.object_type, details, path, value, memo)
        return self._complete_items(shape.object_type, shape.item_type, details, path, value, memo)

    def _complete_object(
        self,
        object_type: GraphQLObjectType,
        details: FieldDetailsList,
        path: Path,
        value: Any,
        memo: Memo | None = None,
    ) -> Any:
        plan: FieldSetPlan | None
        if memo and self._collects_alike:
            plan = memo[0]
        else:
            plan = self._subplan(object_type, details, memo)
        if plan is not None:  # as execute_collected_subfields does, without its call
            return self._run_object(plan, object_type, path, value)
        grouped_field_set, defer_usages, _forbidden = self.collect_subfields(object_type, details)
        return self.execute_collected_subfields(
            object_type, value, path, grouped_field_set, defer_usages, None
        )

    def _complete_items(
        self,
        object_type: GraphQLObjectType,
        item_type: GraphQLOutputType,
        details: FieldDetailsList,
        path: Path,
        items: Any,
        memo: Memo | None = None,
    ) -> Any:
        """A list's items, each an object at its own path; an item's error nulls the item
        when the item may be null, and the whole list otherwise (raised to the field)."""
        completed: list[Any] = [None] * len(items)  # (a list or a tuple: `Shape.fits`)
        waiting: list[int] = []
        # the items share their fields: collected once (graphql-core asks its memo per item)
        # and their plan: each item's fields run as `execute_fields` runs them
        plan: FieldSetPlan | None
        if memo and self._collects_alike:
            plan = memo[0]
        else:
            plan = self._subplan(object_type, details, memo)
        if plan is None:
            return self._complete_deferred_items(object_type, item_type, details, path, items)
        run = plan.run
        try:
            for index, item in enumerate(items):
                if item is None:
                    continue
                item_path = new_path((path, index, None))
                fields: dict[str, Any] = {}
                pending: list[str] = []
                try:
                    run(self, item, item_path, object_type, None, fields, pending)
                except Exception as raw_error:
                    if pending:  # settle what other fields started: they may fail too
                        self.settle_in_background([fields[name] for name in pending])
                    self.handle_field_error(raw_error, item_type, details, item_path)
                    continue
                if pending:
                    waiting.append(index)
                    completed[index] = self._settle_field(
                        _completed(fields, pending), item_type, details, item_path
                    )
                else:
                    completed[index] = fields
        except Exception:
            if waiting:
                self.settle_in_background([completed[index] for index in waiting])
            raise
        if not waiting:
            return completed
        return _completed_items(completed, waiting)

    def _complete_deferred_items(
        self,
        object_type: GraphQLObjectType,
        item_type: GraphQLOutputType,
        details: FieldDetailsList,
        path: Path,
        items: Any,
    ) -> Any:
        """`_complete_items` where the items' fields defer some (graphql-core's path)."""
        completed: list[Any] = []
        waiting: list[int] = []
        try:
            for index, item in enumerate(items):
                if item is None:
                    completed.append(None)
                    continue
                item_path = new_path((path, index, None))
                try:
                    done = self._complete_object(object_type, details, item_path, item)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, details, item_path)
                    done = None
                if type(done) not in _SETTLED and self.is_awaitable(done):
                    done = self._settle_field(done, item_type, details, item_path)
                    waiting.append(index)
                completed.append(done)
        except Exception:
            if waiting:
                self.settle_in_background([completed[index] for index in waiting])
            raise
        if not waiting:
            return completed
        return _completed_items(completed, waiting)

    async def _settle_field(
        self,
        awaitable: Awaitable[Any],
        field_type: GraphQLOutputType,
        details: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await awaitable
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_type, details, path)
            return None

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        plan = _plan(parent_type, field_details_list[0].node.name.value)
        if plan is None or not self.short_path:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        read, coerce, nullable, called, _unchanged = plan
        try:
            value = read(source)
        except Exception:  # graphql-core's path runs it again and reports it at its path
            value = Undefined
        else:
            if called and self.is_awaitable(value):
                return self._complete_later(
                    parent_type, field_details_list, path, value, position_context
                )
            if value is None and nullable:
                return None
            if value is not None and not isinstance(value, Exception):
                try:
                    coerced = coerce(value)
                except Exception:  # refused: graphql-core's path says so at its path
                    coerced = None
                if coerced is not None and coerced is not Undefined:
                    return coerced
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _complete_later(
        self,
        parent_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> Any:
        """A method of the source that returned an awaitable: graphql-core awaits it."""
        field_def = parent_type.fields[field_details_list[0].node.name.value]
        info = self.build_resolve_info(field_def, to_nodes(field_details_list), parent_type, path)
        return self.complete_awaitable_value(
            field_def.type, field_details_list, info, path, value, position_context
        )
