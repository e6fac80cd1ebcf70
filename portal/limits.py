"""Query limits: depth, fields, aliases, introspection, cost and `first`, checked before a
resolver runs, for HTTP and WebSocket operations alike (a schema extension).

Refusals are GraphQL errors with a code (`QUERY_TOO_DEEP`, `TOO_MANY_FIELDS`,
`TOO_MANY_ALIASES`, `INTROSPECTION_DISABLED`, `QUERY_TOO_COMPLEX`) and the limit, so a
client can tell what to change. Nothing is executed. (`first` past the page cap of
persistence/paging.py is refused by the field itself, BAD_USER_INPUT, the rest answering.)

The cost is the number of fields a response may hold at most: a field costs 1 plus what
its selection costs times the field's multiplier: `first` (or the default page) on a
connection, `list_cost` for a list without `first`, 1 otherwise. Nested lists multiply.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    BREAK,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInt,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    visit,
)
from graphql import Visitor as GraphQLVisitor
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from strawberry.extensions import SchemaExtension

from persistence.paging import DEFAULT_PAGE, MAX_PAGE
from portal.graphql_documents import DOCUMENTS, Document, Operation
from runtime.context import Context
from runtime.http_settings import HttpSettings, QueryLimits

DEFAULT_SETTINGS = HttpSettings()
COSTS_PER_DOCUMENT = 64
log = logging.getLogger("portal.limits")


def refusal(code: str, message: str, **extra: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extra})


def shape_refusals(operation: Operation, settings: HttpSettings) -> list[GraphQLError]:
    """Limits the text alone decides (checked before validation: cheap, and they bound it)."""
    limits, shape = settings.query, operation.shape
    errors = []
    if shape.depth > limits.max_depth:
        errors.append(
            refusal(
                "QUERY_TOO_DEEP",
                f"The query is nested {shape.depth} levels deep; at most "
                f"{limits.max_depth} are allowed.",
                limit=limits.max_depth,
            )
        )
    if shape.fields > limits.max_fields:
        errors.append(
            refusal(
                "TOO_MANY_FIELDS",
                f"The query selects {shape.fields} fields; at most {limits.max_fields} "
                "are allowed.",
                limit=limits.max_fields,
            )
        )
    if shape.aliases > limits.max_aliases:
        errors.append(
            refusal(
                "TOO_MANY_ALIASES",
                f"The query uses {shape.aliases} aliases; at most {limits.max_aliases} "
                "are allowed.",
                limit=limits.max_aliases,
            )
        )
    if shape.introspection and not settings.introspection:
        errors.append(refusal("INTROSPECTION_DISABLED", "Introspection is disabled."))
    return errors


class _Cost:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: Document,
        variables: Mapping[str, Any],
        defaults: Mapping[str, Any],
        limits: QueryLimits,
    ) -> None:
        self.schema = schema
        self.document = document
        self.variables = variables
        self.defaults = defaults
        self.limits = limits
        self.fragments: dict[tuple[str, bool], int] = {}
        self.consulted: set[str] = set()  # the variables the cost depends on

    def selections(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, flat: bool
    ) -> int:
        """`flat`: inside introspection, whose lists are the schema's (bounded) and whose
        nesting of type lists validation limits (MaxIntrospectionDepthRule): each field
        counts once."""
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, flat)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, target or parent, flat)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, flat)
        return total

    def fragment(self, name: str, flat: bool) -> int:
        key = (name, flat)
        if key not in self.fragments:
            definition = self.document.fragments.get(name)
            self.fragments[key] = 0  # a cycle counts nothing (validation refuses it anyway)
            if definition is not None:
                target = self.schema.get_type(definition.type_condition.name.value)
                if target is not None:
                    self.fragments[key] = self.selections(definition.selection_set, target, flat)
        return self.fragments[key]

    def field(self, node: FieldNode, parent: GraphQLNamedType, flat: bool) -> int:
        definition = self.definition(node.name.value, parent)
        if definition is None or definition is TypeNameMetaFieldDef:
            return 0
        flat = flat or definition in (SchemaMetaFieldDef, TypeMetaFieldDef)
        inner = self.selections(node.selection_set, get_named_type(definition.type), flat)
        return 1 + (1 if flat else self.multiplier(node, definition, parent)) * inner

    def definition(self, name: str, parent: GraphQLNamedType) -> GraphQLField | None:
        if name == "__typename":
            return TypeNameMetaFieldDef
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
        fields = getattr(parent, "fields", None)
        return fields.get(name) if fields else None

    def multiplier(
        self, node: FieldNode, definition: GraphQLField, parent: GraphQLNamedType
    ) -> int:
        if "first" in definition.args:
            return self.first(node, definition)
        if is_list_type(get_nullable_type(definition.type)):
            # A connection's edges and nodes are its page, already counted by `first`.
            return 1 if parent.name.endswith("Connection") else self.limits.list_cost
        return 1

    def first(self, node: FieldNode, definition: GraphQLField) -> int:
        value: PageSize = None
        argument = next((a for a in node.arguments or () if a.name.value == "first"), None)
        if argument is not None:
            if isinstance(argument.value, VariableNode):
                name = argument.value.name.value
                self.consulted.add(name)
                value = page_size(self.variables.get(name, self.defaults.get(name)))
            else:
                value = literal_page_size(argument.value)
        if value is None:
            value = page_size(definition.args["first"].default_value)
        if value is None:
            return DEFAULT_PAGE  # absent or null: the connection's default page
        if isinstance(value, _Invalid):
            return MAX_PAGE  # not an Int (coercion refuses it later): the most it could be
        if not 0 <= value <= MAX_PAGE:
            return 0  # the field refuses it (BAD_USER_INPUT): nothing below it runs
        return value


class _Invalid:
    """A `first` that is not an Int graphql-core would accept."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID = _Invalid()
PageSize = int | _Invalid | None
ABSENT = "absent"  # in a cost key: the variable's default applies (null does not take it)


def page_size(value: Any) -> PageSize:
    """A variable's `first` as graphql-core coerces it for an Int: None for absent or null,
    the int (an integral float such as `100.0` included: graphql-core accepts it and the
    resolver gets 100), or INVALID for anything it refuses."""
    if value is None:
        return None
    try:
        return int(GraphQLInt.coerce_input_value(value))
    except (GraphQLError, TypeError, ValueError, OverflowError):
        return INVALID


def literal_page_size(node: ValueNode) -> PageSize:
    """A `first` written in the document. Validation refuses a literal that is not an Int
    (`100.0` included, unlike a variable's value); it is costed at the largest page."""
    if isinstance(node, NullValueNode):
        return None
    if isinstance(node, IntValueNode):
        return page_size(int(node.value))
    return INVALID


def _variable_defaults(operation: Operation) -> dict[str, PageSize]:
    return {
        definition.variable.name.value: literal_page_size(definition.default_value)
        for definition in operation.node.variable_definitions or ()
        if definition.default_value is not None
    }


def cost_of(
    schema: GraphQLSchema,
    document: Document,
    operation: Operation,
    variables: Mapping[str, Any] | None,
    limits: QueryLimits,
) -> int:
    """The operation's cost, kept on the document per value of the variables it depends on
    (a screen asks for few page sizes)."""
    variables = variables or {}
    base = (operation.name, id(schema), limits.list_cost)
    names = document.cost_variables.get(base)
    if names is not None:
        key = _cost_key(base, names, variables)
        if key in document.costs:
            return document.costs[key]
    root = schema.get_root_type(operation.type)
    if root is None:
        return 0
    counter = _Cost(schema, document, variables, _variable_defaults(operation), limits)
    result = counter.selections(operation.node.selection_set, root, flat=False)
    names = document.cost_variables[base] = tuple(sorted(counter.consulted))
    key = _cost_key(base, names, variables)
    if len(document.costs) < COSTS_PER_DOCUMENT:
        document.costs[key] = result
    return result


def _cost_key(
    base: tuple[Any, ...], names: tuple[str, ...], variables: Mapping[str, Any]
) -> tuple[Any, ...]:
    """Keyed on the page sizes the variables coerce to, not on their raw values: `100.0`
    and `100` are the same page (and cost), `True` (equal to 1 in Python) is not a page."""
    return (
        base,
        tuple(page_size(variables[name]) if name in variables else ABSENT for name in names),
    )


def cost_refusals(
    schema: GraphQLSchema,
    document: Document,
    operation: Operation,
    variables: Mapping[str, Any] | None,
    limits: QueryLimits,
) -> list[GraphQLError]:
    cost = cost_of(schema, document, operation, variables, limits)
    if cost > limits.max_cost:
        return [
            refusal(
                "QUERY_TOO_COMPLEX",
                f"The query may return up to {cost} fields; at most {limits.max_cost} are "
                "allowed. Ask for smaller pages (`first`) or fewer nested lists.",
                limit=limits.max_cost,
                cost=cost,
            )
        ]
    return []


def settings_of(context: Any) -> HttpSettings:
    if isinstance(context, Context):
        return context.services.settings.http
    return DEFAULT_SETTINGS


def check(
    schema: GraphQLSchema,
    document: Document,
    operation: Operation,
    variables: Mapping[str, Any] | None,
    rules: tuple[type[Any], ...],
    settings: HttpSettings,
) -> list[GraphQLError]:
    """Every refusal before execution, cheapest first: shape, validation, text, cost."""
    return (
        shape_refusals(operation, settings)
        or document.validate(schema, rules, suggestions=settings.introspection)
        or text_refusals(document, variables)
        or cost_refusals(schema, document, operation, variables, settings.query)
    )


NUL = "\x00"


def text_refusals(document: Document, variables: Mapping[str, Any] | None) -> list[GraphQLError]:
    """Text holding NUL (U+0000), in a string of the document or of the variables: no text
    of ours may hold it and PostgreSQL refuses it, mid-operation (an INTERNAL_SERVER_ERROR
    after what ran before it). Refused as a whole, before anything runs."""
    if document.holds_nul is None:
        # The lexer refuses a raw NUL: only an escape (`\u0000`, `\u{0}`) makes one.
        document.holds_nul = "\\u" in document.text and _literal_nul(document)
    if document.holds_nul or (variables and _holds_nul(variables)):
        return [refusal("BAD_USER_INPUT", "Text must not hold the NUL character (U+0000).")]
    return []


def _literal_nul(document: Document) -> bool:
    found = False

    class Visitor(GraphQLVisitor):
        def enter_string_value(self, node: StringValueNode, *_args: Any) -> Any:
            nonlocal found
            if NUL in node.value:
                found = True
                return BREAK
            return None

    if document.node is not None:
        visit(document.node, Visitor())
    return found


def _holds_nul(value: Any) -> bool:
    """Whether a string anywhere in `value` (JSON: dicts, lists) holds NUL; iterative, as
    variables may nest as deep as the JSON parser allows."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class GuardedDocuments(SchemaExtension):
    """Parse from the cache, then refuse what is too big or invalid before execution."""

    document: Document | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            settings = settings_of(context.context)
            document = DOCUMENTS.get(context.query, settings.query.max_tokens)
            if document.error is None:
                self.document = document
                context.graphql_document = document.node
            else:
                # strawberry parses it again and reports the syntax error its own way (for
                # every transport); the token limit keeps that second parse cheap.
                context.parse_options["max_tokens"] = settings.query.max_tokens
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = self.document
        if document is not None:
            operation = document.operation(context.operation_name)
            if operation is not None:
                try:
                    context.pre_execution_errors = check(
                        context.schema._schema,
                        document,
                        operation,
                        context.variables,
                        context.validation_rules,
                        settings_of(context.context),
                    )
                except Exception:  # fail closed, and tell nothing of the cause
                    request_id = getattr(context.context, "request_id", "-")
                    log.exception("query limits failed request_id=%s", request_id)
                    context.pre_execution_errors = [
                        refusal(
                            "INTERNAL_SERVER_ERROR",
                            f"Unexpected error. Quote request id {request_id} if you contact "
                            "support.",
                            requestId=request_id,
                        )
                    ]
        yield
