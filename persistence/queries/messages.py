"""Message threads, their messages, and what one reader has not read yet.

Unread is per reader: a provider message sent after the reader's `thread_reads.read_through`
for its thread (every provider message when the reader has no row). The reader is the
account the grants were issued to, so a read can never count for someone else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.scopes import RecordArea
from persistence import models as m
from persistence import raw
from persistence.paging import (
    Page,
    PageOf,
    RowPages,
    SortKey,
    dialect_of,
    fields_of,
    one_of,
    page_of,
    row_pages,
    row_pages_per_parent,
)
from persistence.queries.guard import patient_ids


class ThreadRow(NamedTuple):
    """A message thread as the read path has it (a plain row, no ORM entity)."""

    id: str
    patient_id: str
    subject: str
    category: str
    provider_id: str | None
    care_team: str | None
    created_at: datetime
    last_message_at: datetime
    result_id: str | None


class MessageRow(NamedTuple):
    """A message as the read path has it (what `Message` shows)."""

    id: str
    thread_id: str
    sender_kind: str
    sender_name: str
    body: str
    sent_at: datetime


_T, _M, _TR = m.MessageThread.__table__, m.Message.__table__, m.ThreadRead.__table__
THREAD_SORT = SortKey((_T.c.last_message_at, _T.c.id), descending=True)
MESSAGE_SORT = SortKey((_M.c.sent_at, _M.c.id), descending=True)
_THREAD_COLUMNS = fields_of(_T, ThreadRow._fields)
_MESSAGE_FIELDS = MessageRow._fields
_READ_AT = len(_THREAD_COLUMNS)  # the reader's read_through, then the message if any
_MESSAGE_AT = _READ_AT + 1
UNREAD = "UNREAD"  # `Page.filter` of a thread list narrowed to threads with unread messages
PROVIDER = "provider"


def reader_of(grants: Sequence[PatientGrant]) -> str:
    """The one account these grants were issued to (loaders are per request, so per reader)."""
    readers = {g.account_id for g in grants}
    if len(readers) != 1:
        raise PermissionError("a batch of message reads must be for exactly one reader")
    return readers.pop()


def _message_ids(grants: Sequence[PatientGrant]) -> list[str]:
    return patient_ids(grants, RecordArea.MESSAGES)


def _unread_messages(reader: str | BindParameter[str]) -> Select[Any]:
    """Provider messages `reader` has not read, joined to their thread (add columns/filters)."""
    read = and_(_TR.c.thread_id == _M.c.thread_id, _TR.c.account_id == reader)
    return (
        select()
        .select_from(_M)
        .join(_T, _T.c.id == _M.c.thread_id)
        .outerjoin(_TR, read)
        .where(
            _M.c.sender_kind == PROVIDER,
            or_(_TR.c.read_through.is_(None), _M.c.sent_at > _TR.c.read_through),
        )
    )


def _has_unread(reader: str | BindParameter[str]) -> ColumnElement[bool]:
    """For a query over message_threads: the thread has a message `reader` has not read."""
    read = and_(_TR.c.thread_id == _M.c.thread_id, _TR.c.account_id == reader)
    unread = (
        select(_M.c.id)
        .outerjoin(_TR, read)
        .where(
            _M.c.thread_id == _T.c.id,
            _M.c.sender_kind == PROVIDER,
            or_(_TR.c.read_through.is_(None), _M.c.sent_at > _TR.c.read_through),
        )
    )
    return unread.exists()


def _threads(ids: Sequence[str], page: Page, reader: str) -> Select[Any]:
    query = select(m.MessageThread).where(m.MessageThread.patient_id.in_(ids))
    if page.filter == UNREAD:
        query = query.where(_has_unread(reader))
    return query


# Each thread comes with how far the reader has read it (NULL: never opened), in the same
# statement: a message's `readByMe` then costs no statement of its own.
WITH_READ_THROUGH = (
    (
        _TR,
        and_(
            _TR.c.thread_id == _T.c.id,
            _TR.c.account_id == bindparam("reader", type_=_TR.c.account_id.type),
        ),
    ),
)


@dataclass(frozen=True)
class ThreadPage(Page):
    """A page of threads, each with the first `messages` of its messages (newest first)
    loaded in the same statement when that is set."""

    messages: int | None = None


def _latest_messages(dialect: str) -> tuple[FromClause, ColumnElement[bool], list[Any]]:
    """The newest `message_limit` messages of each thread, joined to it (the table or
    subquery, the on clause, the message columns): LATERAL on PostgreSQL (an index scan per
    thread); SQLite has no LATERAL, so there an IN of the thread's newest ids, correlated
    to it."""
    limit = bindparam("message_limit", type_=Integer)
    if dialect == "postgresql":
        newest = (
            select(*fields_of(_M, _MESSAGE_FIELDS))
            .where(_M.c.thread_id == _T.c.id)
            .order_by(*MESSAGE_SORT.order_by())
            .limit(limit)
            .lateral("latest_messages")
        )
        return newest, true(), fields_of(newest, _MESSAGE_FIELDS)
    other = _M.alias("other_message")
    ids = (
        select(other.c.id)
        .where(other.c.thread_id == _T.c.id)
        .order_by(other.c.sent_at.desc(), other.c.id.desc())
        .limit(limit)
    )
    on = and_(_M.c.thread_id == _T.c.id, _M.c.id.in_(ids))
    return _M, on, fields_of(_M, _MESSAGE_FIELDS)


_LATEST_MESSAGES = {dialect: _latest_messages(dialect) for dialect in ("postgresql", "sqlite")}
# a thread's messages newest first (the message columns end with sent_at, start with id);
# built once: a statement's expressions cost more than a request's use of them
_NEWEST_FIRST = {
    form: [columns[-1].desc(), columns[0].desc()]
    for form, (_latest, _on, columns) in _LATEST_MESSAGES.items()
}


def _thread(row: Sequence[Any]) -> ThreadRow:
    return ThreadRow._make(row[:_READ_AT])


def read_through_of(row: Sequence[Any]) -> datetime | None:
    """How far the reader has read the thread of a row of `thread_pages` (None: never)."""
    value: datetime | None = row[_READ_AT]
    return value


def message_of(row: Sequence[Any]) -> MessageRow | None:
    """The message of a row of `thread_pages` (None: no messages asked, or none)."""
    if len(row) <= _MESSAGE_AT or row[_MESSAGE_AT] is None:
        return None
    return MessageRow._make(row[_MESSAGE_AT:])


async def thread_pages(
    session: AsyncSession,
    grants: Sequence[PatientGrant],
    page: Page,
    each_row: Callable[[Sequence[Any]], None] | None = None,
) -> dict[str, PageOf]:
    """One page of `ThreadRow`s per patient, newest activity first; `page.filter` may be
    UNREAD. Each thread is loaded with the reader's read-through and, for a `ThreadPage`
    with `messages`, its newest `messages + 1` messages (the extra one says whether there
    are more), each row of the statement told to `each_row` (`read_through_of`,
    `message_of` read it), a thread's messages newest first."""
    return await thread_read(dialect_of(session), grants, page, each_row).run(session)


def thread_read(
    dialect: str,
    grants: Sequence[PatientGrant],
    page: Page,
    each_row: Callable[[Sequence[Any]], None] | None = None,
) -> RowPages[ThreadRow]:
    """`thread_pages`' statement for `dialect`, not run yet (`RowPages`)."""
    ids = _message_ids(grants)
    unread = page.filter == UNREAD
    messages = page.messages if isinstance(page, ThreadPage) else None
    joined: list[tuple[FromClause, ColumnElement[bool]]] = list(WITH_READ_THROUGH)
    columns: list[Any] = [*_THREAD_COLUMNS, _TR.c.read_through]
    then_by: list[Any] = []
    params: dict[str, Any] = {"reader": reader_of(grants)}
    form = None  # the statement's form as to messages: none, or the dialect's join
    if messages is not None:
        form = "postgresql" if dialect == "postgresql" else "sqlite"
        latest, on, message_columns = _LATEST_MESSAGES[form]
        joined.append((latest, on))
        columns += message_columns
        then_by = _NEWEST_FIRST[form]
        params["message_limit"] = messages + 1

    def query() -> Select[Any]:
        # The parents are the patients (`row_pages` restricts to them).
        query = select(_T)
        if unread:
            query = query.where(_has_unread(bindparam("reader", type_=_TR.c.account_id.type)))
        return query

    return row_pages(
        dialect,
        query,
        _T.c.patient_id,
        ids,
        THREAD_SORT,
        page,
        shape=("threads", unread, form),
        columns=columns,
        make=_thread,
        params=params,
        joined=joined,
        then_by=then_by,
        each_row=each_row,
    )


async def inbox_page(session: AsyncSession, grants: Sequence[PatientGrant], page: Page) -> PageOf:
    """The family inbox: one page of threads across every patient the grants cover."""
    if not grants:
        return PageOf([], False, [])
    query = _threads(_message_ids(grants), page, reader_of(grants))
    return await page_of(session, query, THREAD_SORT, page)


async def message_pages(
    session: AsyncSession, grants: Sequence[PatientGrant], thread_ids: Sequence[str], page: Page
) -> dict[str, PageOf]:
    """One page of `MessageRow`s per thread, newest first, only of threads the grants
    cover."""

    def query() -> Select[Any]:
        return (
            select(_M)
            .join(_T, _T.c.id == _M.c.thread_id)
            .where(one_of(_T.c.patient_id, "patient_ids"))
        )

    return await row_pages_per_parent(
        session,
        query,
        _M.c.thread_id,
        thread_ids,
        MESSAGE_SORT,
        page,
        shape="messages",
        columns=fields_of(_M, _MESSAGE_FIELDS),
        make=MessageRow._make,
        params={"patient_ids": _message_ids(grants)},
    )


async def messages_by_id(
    session: AsyncSession, grants: Sequence[PatientGrant], ids: Sequence[str]
) -> list[tuple[m.Message, m.MessageThread]]:
    """The messages with their threads (read with them: a reader of a message, an event's
    delivery or node(id), nearly always reads its thread next)."""
    stmt = (
        select(m.Message, m.MessageThread)
        .join(m.MessageThread, m.MessageThread.id == m.Message.thread_id)
        .where(m.Message.id.in_(ids), m.MessageThread.patient_id.in_(_message_ids(grants)))
    )
    return [(message, thread) for message, thread in (await session.execute(stmt)).all()]


# Built once per process (persistence/paging.py says why): the unread counts of every screen.
_READER = _TR.c.account_id.type
UNREAD_BY_THREAD = (
    _unread_messages(bindparam("reader", type_=_READER))
    .add_columns(_M.c.thread_id, func.count())
    .where(
        one_of(_M.c.thread_id, "thread_ids"),
        one_of(_T.c.patient_id, "patient_ids"),
    )
    .group_by(_M.c.thread_id)
)
UNREAD_BY_PATIENT = (
    _unread_messages(bindparam("reader", type_=_READER))
    .add_columns(_T.c.patient_id, func.count())
    .where(one_of(_T.c.patient_id, "patient_ids"))
    .group_by(_T.c.patient_id)
)


async def unread_by_thread(
    session: AsyncSession, grants: Sequence[PatientGrant], thread_ids: Sequence[str]
) -> dict[str, int]:
    """The reader's unread count per thread (threads with none are absent)."""
    values = {
        "reader": reader_of(grants),
        "thread_ids": list(thread_ids),
        "patient_ids": _message_ids(grants),
    }
    rows = await raw.rows(session, UNREAD_BY_THREAD, values)
    return {thread_id: count for thread_id, count in rows}


async def unread_by_patient(
    session: AsyncSession, grants: Sequence[PatientGrant]
) -> dict[str, int]:
    """The reader's unread count per patient (patients with none are absent)."""
    rows = await raw.rows(session, UNREAD_BY_PATIENT, unread_by_patient_values(grants))
    return {patient_id: count for patient_id, count in rows}


def unread_by_patient_values(grants: Sequence[PatientGrant]) -> dict[str, Any]:
    """The values `UNREAD_BY_PATIENT` runs with for these grants (one reader's)."""
    return {"reader": reader_of(grants), "patient_ids": _message_ids(grants)}


async def read_through_by_thread(
    session: AsyncSession, grants: Sequence[PatientGrant], thread_ids: Sequence[str]
) -> dict[str, datetime]:
    """How far the reader has read each thread (threads never opened are absent)."""
    stmt = (
        select(m.ThreadRead.thread_id, m.ThreadRead.read_through)
        .join(m.MessageThread, m.MessageThread.id == m.ThreadRead.thread_id)
        .where(
            m.ThreadRead.account_id == reader_of(grants),
            m.ThreadRead.thread_id.in_(thread_ids),
            m.MessageThread.patient_id.in_(_message_ids(grants)),
        )
    )
    return {thread_id: at for thread_id, at in (await session.execute(stmt)).all()}


async def message_owners(session: AsyncSession, message_ids: Sequence[str]) -> dict[str, str]:
    """Message id -> the patient of its thread, for the messages that exist (one statement);
    all that is known before the access check."""
    stmt = (
        select(m.Message.id, m.MessageThread.patient_id)
        .join(m.MessageThread, m.MessageThread.id == m.Message.thread_id)
        .where(m.Message.id.in_(message_ids))
    )
    return {message_id: patient_id for message_id, patient_id in await session.execute(stmt)}
