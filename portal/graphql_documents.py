"""GraphQL documents cached by their text: parsed, measured and validated once.

A screen sends the same few documents over and over, so the work that depends on the text
alone is done on first sight and kept in a bounded LRU: the AST, each operation's type,
depth, field and alias counts, and validation errors (per schema and rule set). What also
depends on variables (the cost, `first`) is computed per request from the cached AST
(portal/limits.py).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    parse,
)
from graphql.validation import validate
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from domain.errors import BrokenInvariant

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
# Root mutation fields that guess a credential: each one is a sign-in attempt for the limiter.
CREDENTIAL_FIELDS = frozenset(
    {"signIn", "activateAccount", "verifySignUp", "resetPassword", "signUpWithoutCode"}
)
CACHE_ENTRIES = 1_000
CACHE_MAX_TEXT = 64 * 1024  # longer documents are parsed every time, so they cannot fill memory


@dataclass(frozen=True)
class Shape:
    """What the text of an operation says about its size (fragments expanded)."""

    depth: int = 0
    fields: int = 0
    aliases: int = 0
    introspection: bool = False

    def __add__(self, other: Shape) -> Shape:
        return Shape(
            max(self.depth, other.depth),
            self.fields + other.fields,
            self.aliases + other.aliases,
            self.introspection or other.introspection,
        )


@dataclass(frozen=True)
class Operation:
    name: str | None
    type: OperationType
    node: OperationDefinitionNode
    shape: Shape
    credential_fields: tuple[FieldNode, ...]


@dataclass
class Document:
    text: str
    node: DocumentNode | None = None
    error: GraphQLError | None = None
    operations: dict[str | None, Operation] = field(default_factory=dict)
    fragments: dict[str, FragmentDefinitionNode] = field(default_factory=dict)
    _validated: dict[tuple[Any, ...], list[GraphQLError]] = field(default_factory=dict)
    # portal/limits.py: which variables an operation's cost depends on, and costs computed
    cost_variables: dict[tuple[Any, ...], tuple[str, ...]] = field(default_factory=dict)
    costs: dict[tuple[Any, ...], int] = field(default_factory=dict)
    holds_nul: bool | None = None  # a string literal holds U+0000 (portal/limits.py)

    def operation(self, name: str | None) -> Operation | None:
        """The operation a request names; without a name, the only one there is."""
        if name is None:
            return next(iter(self.operations.values())) if len(self.operations) == 1 else None
        return self.operations.get(name)

    def validate(
        self, schema: GraphQLSchema, rules: tuple[type[Any], ...], suggestions: bool = True
    ) -> list[GraphQLError]:
        """strawberry's validation (its two rules added to `rules`), with graphql-core's
        "Did you mean ...?" left out when `suggestions` is off: where introspection is off, a
        client must not learn the schema's names from its typos either."""
        key = (id(schema), rules, suggestions)
        if key not in self._validated:
            if self.node is None:
                raise BrokenInvariant("self.node is None")
            every_rule = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
            errors = validate(schema, self.node, every_rule, hide_suggestions=not suggestions)
            self._validated[key] = [coded(e, "GRAPHQL_VALIDATION_FAILED") for e in errors]
        return self._validated[key]


def coded(error: GraphQLError, code: str) -> GraphQLError:
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        # A code the error already has is kept: a scalar's refusal of a literal (a DateTime
        # without a zone) is the client's input at fault, BAD_USER_INPUT as in a variable.
        extensions={"code": code, **(error.extensions or {})},
    )


def analyse(text: str, max_tokens: int) -> Document:
    try:
        node = parse(text, max_tokens=max_tokens)
    except GraphQLError as exc:
        return Document(text, error=coded(exc, "GRAPHQL_PARSE_FAILED"))
    except RecursionError:
        error = GraphQLError(
            "The document is nested too deeply.", extensions={"code": "GRAPHQL_PARSE_FAILED"}
        )
        return Document(text, error=error)
    document = Document(text, node=node)
    document.fragments = {
        d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
    }
    measure = _Measure(document.fragments)
    for definition in node.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        name = definition.name.value if definition.name else None
        try:
            shape = measure.selections(definition.selection_set)
        except RecursionError:
            shape = Shape(depth=1 << 30)
        credentials: tuple[FieldNode, ...] = ()
        if definition.operation is OperationType.MUTATION:
            credentials = tuple(
                f
                for f in root_fields(definition.selection_set, document.fragments)
                if f.name.value in CREDENTIAL_FIELDS
            )
        document.operations[name] = Operation(
            name, definition.operation, definition, shape, credentials
        )
    return document


class _Measure:
    """Depth, fields and aliases with fragments expanded; each fragment measured once, so
    fragments that spread each other many times cost linear time (and big counts)."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.done: dict[tuple[str, bool], Shape] = {}
        self.visiting: set[str] = set()

    def selections(self, selection_set: SelectionSetNode | None, inside: bool = False) -> Shape:
        """`inside`: within `__schema` or `__type`."""
        total = Shape()
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total = total + self.field(selection, inside)
            elif isinstance(selection, InlineFragmentNode):
                total = total + self.selections(selection.selection_set, inside)
            elif isinstance(selection, FragmentSpreadNode):
                total = total + self.fragment(selection.name.value, inside)
        return total

    def field(self, node: FieldNode, inside: bool) -> Shape:
        alias = 1 if node.alias else 0
        if not inside and node.name.value in INTROSPECTION_FIELDS:
            # Its depth is the schema's (GraphiQL's query nests `ofType` deeply): not counted.
            # Nested type lists are refused by graphql-core's MaxIntrospectionDepthRule.
            inner = self.selections(node.selection_set, inside=True)
            return Shape(1, inner.fields + 1, inner.aliases + alias, True)
        inner = self.selections(node.selection_set, inside)
        return Shape(inner.depth + 1, inner.fields + 1, inner.aliases + alias, inner.introspection)

    def fragment(self, name: str, inside: bool) -> Shape:
        key = (name, inside)
        if key in self.done:
            return self.done[key]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:
            return Shape()  # unknown or cyclic: validation reports it
        self.visiting.add(name)
        shape = self.selections(definition.selection_set, inside)
        self.visiting.discard(name)
        self.done[key] = shape
        return shape


def root_fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> Iterable[FieldNode]:
    """The root fields of an operation, through fragments, each occurrence (aliases too)."""
    stack: list[tuple[SelectionSetNode, frozenset[str]]] = [(selection_set, frozenset())]
    while stack:
        current, seen = stack.pop()
        for selection in current.selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, seen))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                definition = fragments.get(name)
                if definition is not None and name not in seen:
                    stack.append((definition.selection_set, seen | {name}))


def input_username(node: FieldNode, variables: Mapping[str, Any]) -> str | None:
    """`input.username` of a credential field, from the document or its variables."""
    argument = next((a for a in node.arguments or () if a.name.value == "input"), None)
    if argument is None:
        return None
    value: Any = argument.value
    if isinstance(value, VariableNode):
        given = variables.get(value.name.value)
        username = given.get("username") if isinstance(given, dict) else None
        return username if isinstance(username, str) else None
    if isinstance(value, ObjectValueNode):
        for item in value.fields or ():
            if item.name.value == "username":
                if isinstance(item.value, StringValueNode):
                    return item.value.value
                if isinstance(item.value, VariableNode):
                    given = variables.get(item.value.name.value)
                    return given if isinstance(given, str) else None
    return None


class DocumentCache:
    """A bounded LRU of analysed documents by (text, token limit)."""

    def __init__(self, entries: int = CACHE_ENTRIES, max_text: int = CACHE_MAX_TEXT) -> None:
        self.entries = entries
        self.max_text = max_text
        self._cache: OrderedDict[tuple[str, int], Document] = OrderedDict()

    def get(self, text: str, max_tokens: int) -> Document:
        key = (text, max_tokens)
        document = self._cache.get(key)
        if document is not None:
            self._cache.move_to_end(key)
            return document
        document = analyse(text, max_tokens)
        if len(text) <= self.max_text:
            self._cache[key] = document
            if len(self._cache) > self.entries:
                self._cache.popitem(last=False)
        return document

    def clear(self) -> None:
        self._cache.clear()


DOCUMENTS = DocumentCache()
