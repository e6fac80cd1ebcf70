"""What the query document asks below the field being resolved: a list loader may then load
a nested list with its parents, in one statement (a thread page with each thread's latest
messages). Only a hint: the nested field still loads through its own loader, which finds
its answer primed when the hint matched, and runs its own statement when it did not."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
    value_from_ast_untyped,
)

from schema.base import BadInput, page_size

if TYPE_CHECKING:
    from schema.base import Info


# Where a thread list's nodes ask for their messages.
THREAD_MESSAGES = (("nodes", "messages"), ("edges", "node", "messages"))


def _fields(selection_set: SelectionSetNode | None, info: Info) -> Iterator[FieldNode]:
    """The fields of a selection set, through inline fragments and fragment spreads."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, info)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = info._raw_info.fragments.get(selection.name.value)
            if fragment is not None:
                yield from _fields(fragment.selection_set, info)


def _argument(node: FieldNode, name: str, info: Info) -> Any:
    for argument in node.arguments or ():
        if argument.name.value == name:
            value = argument.value
            if isinstance(value, VariableNode):
                values: Any = info._raw_info.variable_values  # a dict, or 3.3's VariableValues
                return getattr(values, "coerced", values).get(value.name.value)
            return value_from_ast_untyped(value)
    return None


def nested_page_size(info: Info, paths: Sequence[Sequence[str]]) -> int | None:
    """The page size of the connection field reached from the current field by any of
    `paths` (field names, e.g. ("nodes", "messages")), when every occurrence asks the same
    first page (the same valid `first`, no `after`); else None (not asked, asked in more
    than one way, or with a `first` the field will refuse)."""
    asked: set[Any] = set()
    for path in paths:
        nodes: list[FieldNode] = list(info._raw_info.field_nodes)
        for name in path:
            nodes = [
                child
                for node in nodes
                for child in _fields(node.selection_set, info)
                if child.name.value == name
            ]
        for node in nodes:
            if _argument(node, "after", info) is not None:
                return None
            asked.add(_argument(node, "first", info))
    if len(asked) != 1:
        return None
    first = asked.pop()
    if first is not None and (not isinstance(first, int) or isinstance(first, bool)):
        return None
    try:
        return page_size(first)
    except BadInput:
        return None
