"""`node(id)`: every Node type, with the same access rules as the paths that reach it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from persistence import models as m
from resolvers import attachments as attachments_r
from resolvers import messages as messages_r
from resolvers import notifications as notifications_r
from resolvers import owned
from resolvers import results as results_r
from schema import messages as messages_s
from schema.base import BadInput

if TYPE_CHECKING:
    from schema.base import Info, Node

Fetch = Callable[["Info", str], Awaitable[Any]]


async def owned_row(
    info: Info, model: type[m.Base], object_type: str, row_id: str
) -> tuple[Any, Any]:
    """resolvers.owned.owned_row for callers that still hold `info` (issue 14 moves them)."""
    return await owned.owned_row(info.context, model, object_type, row_id)


async def _result(info: Info, row_id: str) -> Any:
    row, grant = await owned_row(info, m.Result, "Result", row_id)
    return await results_r.result(info, row, grant) if row else None


async def _message_thread(info: Info, row_id: str) -> Any:
    row, grant = await owned_row(info, m.MessageThread, "MessageThread", row_id)
    return messages_s.MessageThread.from_row(row, grant) if row else None


# Every Node type by its GraphQL name. A new Node type adds its fetcher here.
FETCHERS: dict[str, Fetch] = {
    "MessageThread": _message_thread,
    "Message": messages_r.message_node,
    "Notification": notifications_r.notification_node,
    "Result": _result,
    "Attachment": attachments_r.attachment_node,
}


async def node(info: Info, type_name: str, row_id: str) -> Node | None:
    """The Node types not yet in schema.base.Node's registry (issue 14 moves them there)."""
    fetch = FETCHERS.get(type_name)
    if fetch is None:
        raise BadInput("Not a valid id.")
    result: Node | None = await fetch(info, row_id)
    return result
