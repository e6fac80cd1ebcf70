"""Message threads per patient, the family inbox, messages and unread counts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from domain.scopes import RecordArea
from persistence.paging import Page
from persistence.queries import messages as q
from persistence.queries import owned
from resolvers import patients as patients_r
from schema import messages as s
from schema.base import Connection, cursor_values, page_size

if TYPE_CHECKING:
    from schema.base import Info
    from schema.patients import Patient

CURSOR = [datetime, str]


def _page(unread_only: bool | None, first: int | None, after: str | None) -> Page:
    return Page(page_size(first), cursor_values(after, CURSOR), q.UNREAD if unread_only else None)


async def patient_threads(
    info: Info,
    grant: PatientGrant,
    unread_only: bool | None,
    first: int | None,
    after: str | None,
    messages: int | None = None,
) -> Connection[s.MessageThread]:
    """The page of threads; with `messages` (the page size of messages the query asks of
    each thread), each thread's first page of messages in the same statement (the messages'
    loader is then primed)."""
    plain = _page(unread_only, first, after)
    page = (
        plain
        if messages is None
        else q.ThreadPage(plain.first, plain.after, plain.filter, messages)
    )
    result = await info.context.loaders.message_thread_pages.get((grant, page))
    if result is None:
        raise BrokenInvariant("result is None")
    return Connection.of(result, lambda row: s.MessageThread.from_row(row, grant))


async def patient_unread_count(info: Info, grant: PatientGrant) -> int:
    return await info.context.loaders.unread_by_patient.get(grant) or 0


async def inbox(
    info: Info, unread_only: bool | None, first: int | None, after: str | None
) -> Connection[s.MessageThread]:
    """Every patient whose messages the viewer may read, each under its own rules."""
    page = _page(unread_only, first, after)
    grants = tuple(info.context.readable(RecordArea.MESSAGES))
    result = await info.context.loaders.inbox_pages.get((grants, page))
    if result is None:
        raise BrokenInvariant("result is None")
    by_patient = {g.patient_id: g for g in grants}
    return Connection.of(result, lambda r: s.MessageThread.from_row(r, by_patient[r.patient_id]))


async def thread_messages(
    info: Info, thread: s.MessageThread, first: int | None, after: str | None
) -> Connection[s.Message]:
    page = Page(page_size(first), cursor_values(after, CURSOR))
    result = await info.context.loaders.message_pages.get((thread.grant, thread.internal_id, page))
    if result is None:
        raise BrokenInvariant("result is None")
    return Connection.of(result, lambda row: s.Message.from_row(row, thread.grant))


async def thread_unread_count(info: Info, thread: s.MessageThread) -> int:
    key = (thread.grant, thread.internal_id)
    return await info.context.loaders.unread_by_thread.get(key) or 0


async def thread_patient(info: Info, thread: s.MessageThread) -> Patient:
    return await patients_r.patient(info, thread.patient_id)


async def read_by_me(info: Info, message: s.Message) -> bool:
    if message.sender.kind is not s.SenderKind.PROVIDER:
        return True
    key = (message.grant, message.thread_id)
    read_through = await info.context.loaders.read_through.get(key)
    return read_through is not None and message.sent_at <= read_through


async def message_node(info: Info, message_id: str) -> s.Message | None:
    """node(id) of a Message: access is checked on its thread's patient first."""
    ctx = info.context
    ctx.require_principal()
    async with ctx.loaders.session() as session:
        owner = await owned.message_owner(session, message_id)
    # Unknown ids answer like forbidden ones ("" is nobody's patient id).
    grant = ctx.access(owner or "", RecordArea.MESSAGES, "Message")
    row = await ctx.loaders.message.get((grant, message_id))
    return s.Message.from_row(row, grant) if row else None
