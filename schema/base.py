"""Shared schema pieces: Node and global ids, connections, scalars and the scope guard."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from types import MappingProxyType
from typing import Any, ClassVar, Generic, TypeVar

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types.field import StrawberryField

from domain.access import AccessDenied
from domain.paging import DEFAULT_PAGE, MAX_PAGE, BadCursor, PageOf, decode_cursor
from domain.scopes import RecordArea
from runtime.context import Context
from schema.execution import Lean, global_id

Info = strawberry.Info[Context, None]
T = TypeVar("T")
G = TypeVar("G")


class BadInput(ValueError):
    """A client error in arguments (bad id, cursor, page size): BAD_USER_INPUT."""


# -- global ids ------------------------------------------------------------------------
_URLSAFE = bytes.maketrans(b"+/", b"-_")


def to_global_id(type_name: str, internal_id: str) -> strawberry.ID:
    # base64.urlsafe_b64encode, without its two Python frames (~20 ids a dashboard).
    raw = binascii.b2a_base64(f"{type_name}:{internal_id}".encode(), newline=False)
    return strawberry.ID(raw.translate(_URLSAFE).rstrip(b"=").decode())


def from_global_id(global_id: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadInput("Not a valid id.") from exc
    type_name, sep, internal_id = raw.partition(":")
    # NUL: no id of ours holds one, and PostgreSQL refuses it in text (a 500, and a refused
    # read's audit entry that could never be written).
    if not sep or not type_name or not internal_id or "\x00" in raw:
        raise BadInput("Not a valid id.")
    return type_name, internal_id


def internal_id(global_id: str, expected_type: str) -> str:
    type_name, value = from_global_id(global_id)
    if type_name != expected_type:
        raise BadInput(f"Expected an id of a {expected_type}.")
    return value


@strawberry.interface(description="An object with a globally unique, opaque id.")
class Node:
    # Every Node type that can be fetched by id, by its GraphQL name: a type joins by
    # defining `fetch_node` (no table to edit elsewhere).
    registry: ClassVar[dict[str, type[Node]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "fetch_node" in cls.__dict__:
            Node.registry[cls.__name__] = cls

    @strawberry.field
    @global_id(to_global_id)  # (encoded in the field set's code where it may be)
    def id(self) -> strawberry.ID:
        return to_global_id(type(self).__name__, self.node_id())

    def node_id(self) -> str:
        raise NotImplementedError

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Node | None:
        """The object `row_id` of this type, or None, with the same access rules as the paths
        that reach it (AccessDenied when the viewer may not see it)."""
        raise NotImplementedError


async def fetch_node(info: Info, global_id: str) -> Node | None:
    """`node(id)`: the registered type's `fetch_node`; a refusal names the object asked for
    (the audit of refused reads)."""
    info.context.require_principal()
    type_name, row_id = from_global_id(global_id)
    node_type = Node.registry.get(type_name)
    if node_type is None:
        raise BadInput("Not a valid id.")
    try:
        return await node_type.fetch_node(info, row_id)
    except AccessDenied as denied:
        denied.object_id = f"{type_name}:{row_id}"
        raise


# -- connections -----------------------------------------------------------------------
@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool = False
    start_cursor: str | None = None


def _edge_cursor(root: Edge[Any]) -> str:
    return root.page.cursor(root.index)


def _page_info(root: Connection[Any]) -> PageInfo:
    page = root.page
    last = len(page.rows) - 1
    return PageInfo(
        has_next_page=page.has_next,
        end_cursor=page.cursor(last) if last >= 0 else None,
        start_cursor=page.cursor(0) if last >= 0 else None,
    )


# Cursors are made when a client asks for them (PageOf.cursor): most ask for `nodes` only.
@strawberry.type
class Edge(Generic[T]):
    cursor: str = strawberry.field(resolver=_edge_cursor)
    node: T
    page: strawberry.Private[PageOf]
    index: strawberry.Private[int]


def _edges(root: Connection[T]) -> list[Edge[T]]:
    page = root.page
    return [Edge(page=page, index=i, node=node) for i, node in enumerate(root.node_list)]


# Edges too are made when asked: a client reading `nodes` (the home screens) gets the
# converted rows as they are, without an edge object per row.
@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(resolver=_edges)
    page_info: PageInfo = strawberry.field(resolver=_page_info)
    page: strawberry.Private[PageOf]
    node_list: strawberry.Private[list[T]]

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[T]:
        return self.node_list

    # Both make what `Connection(page=..., node_list=...)` makes (tests/test_construct.py)
    # without the dataclass `__init__`'s frame.
    @classmethod
    def of(cls, page: PageOf, convert: Callable[[Any], T]) -> Connection[T]:
        made: Connection[T] = _new(Connection)
        made.page = page
        made.node_list = [convert(row) for row in page.rows]
        return made

    @classmethod
    def of_each(cls, page: PageOf, convert: Callable[[Any, G], T], given: G) -> Connection[T]:
        """`of` with `convert(row, given)`: no lambda's frame around each row."""
        made: Connection[T] = _new(Connection)
        made.page = page
        made.node_list = [convert(row, given) for row in page.rows]
        return made


_new = object.__new__


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if not 0 <= first <= MAX_PAGE:
        raise BadInput(f"`first` must be between 0 and {MAX_PAGE}.")
    return first


def cursor_values(after: str | None, kinds: list[type]) -> tuple[Any, ...] | None:
    if after is None:
        return None
    try:
        return decode_cursor(after, kinds)
    except BadCursor as exc:
        raise BadInput(str(exc)) from exc


# -- the scope guard -------------------------------------------------------------------
GRANT = "grant"  # the parameter a RequiresScope field body takes its grant as


class RequiresScope(FieldExtension, Lean):
    """Declares and enforces the record area a patient-scoped field reads.

    The parent object must have a `patient_id`. The check runs before the field body, which
    takes the resulting grant as its `grant` parameter (a value, not a GraphQL argument: it
    is taken out of the field's arguments here). A field body without that parameter is
    refused when the schema is built, and a schema test fails on patient-scoped fields that
    lack this extension.
    """

    def __init__(self, area: RecordArea, object_type: str) -> None:
        self.area = area
        self.object_type = object_type

    def apply(self, field: StrawberryField) -> None:
        arguments = [a for a in field.arguments if a.python_name != GRANT]
        if len(arguments) == len(field.arguments):
            raise TypeError(f"{field.python_name}: a RequiresScope field takes `{GRANT}`")
        field.arguments = arguments
        field.metadata = MappingProxyType({**(field.metadata or {}), "requires_scope": self.area})

    gives = (GRANT,)
    context_only = True  # no resolve info is built for the field (schema.execution)

    def context_keywords(self, source: Any, context: Context) -> dict[str, Any]:
        """The grant, given to the body (schema.execution calls the body with it directly)."""
        return {GRANT: context.access(source.patient_id, self.area, self.object_type)}

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        return next_(source, info, **self.keywords(source, info), **kwargs)

    # An async field body's coroutine is awaited by strawberry: no coroutine of our own.
    resolve_async = resolve
