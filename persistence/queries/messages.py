"""Message threads, their messages, and what one reader has not read yet.

Unread is per reader: a provider message sent after the reader's `thread_reads.read_through`
for its thread (every provider message when the reader has no row). The reader is the
account the grants were issued to, so a read can never count for someone else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
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
from sqlalchemy.orm import aliased

from domain.access import PatientGrant
from domain.scopes import RecordArea
from persistence import models as m
from persistence.paging import Page, PageOf, SortKey, one_of, page_of, pages_per_parent
from persistence.queries.guard import patient_ids

THREAD_SORT = SortKey((m.MessageThread.last_message_at, m.MessageThread.id), descending=True)
MESSAGE_SORT = SortKey((m.Message.sent_at, m.Message.id), descending=True)
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
    read = and_(m.ThreadRead.thread_id == m.Message.thread_id, m.ThreadRead.account_id == reader)
    return (
        select()
        .select_from(m.Message)
        .join(m.MessageThread, m.MessageThread.id == m.Message.thread_id)
        .outerjoin(m.ThreadRead, read)
        .where(
            m.Message.sender_kind == PROVIDER,
            or_(m.ThreadRead.read_through.is_(None), m.Message.sent_at > m.ThreadRead.read_through),
        )
    )


def _has_unread(reader: str | BindParameter[str]) -> ColumnElement[bool]:
    """For a query over message_threads: the thread has a message `reader` has not read."""
    read = and_(m.ThreadRead.thread_id == m.Message.thread_id, m.ThreadRead.account_id == reader)
    unread = (
        select(m.Message.id)
        .outerjoin(m.ThreadRead, read)
        .where(
            m.Message.thread_id == m.MessageThread.id,
            m.Message.sender_kind == PROVIDER,
            or_(m.ThreadRead.read_through.is_(None), m.Message.sent_at > m.ThreadRead.read_through),
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
        m.ThreadRead,
        and_(
            m.ThreadRead.thread_id == m.MessageThread.id,
            m.ThreadRead.account_id == bindparam("reader", type_=m.ThreadRead.account_id.type),
        ),
    ),
)


@dataclass(frozen=True)
class ThreadPage(Page):
    """A page of threads, each with the first `messages` of its messages (newest first)
    loaded in the same statement when that is set."""

    messages: int | None = None


def _latest_messages(dialect: str) -> tuple[tuple[Any, ColumnElement[bool]], ...]:
    """The newest `message_limit` messages of each thread, as an entity joined to it:
    LATERAL on PostgreSQL (an index scan per thread); SQLite has no LATERAL, so there an IN
    of the thread's newest ids, correlated to it."""
    limit = bindparam("message_limit", type_=Integer)
    if dialect == "postgresql":
        newest = (
            select(m.Message)
            .where(m.Message.thread_id == m.MessageThread.id)
            .order_by(*MESSAGE_SORT.order_by())
            .limit(limit)
            .lateral("latest_messages")
        )
        return ((aliased(m.Message, newest), true()),)
    other = aliased(m.Message)
    ids = (
        select(other.id)
        .where(other.thread_id == m.MessageThread.id)
        .order_by(other.sent_at.desc(), other.id.desc())
        .limit(limit)
    )
    on = and_(m.Message.thread_id == m.MessageThread.id, m.Message.id.in_(ids))
    return ((m.Message, on),)


_LATEST_MESSAGES = {dialect: _latest_messages(dialect) for dialect in ("postgresql", "sqlite")}


async def thread_pages(
    session: AsyncSession,
    grants: Sequence[PatientGrant],
    page: Page,
    each_joined: Callable[[Sequence[Any]], None] | None = None,
) -> dict[str, PageOf]:
    """One page of threads per patient, newest activity first; `page.filter` may be UNREAD.
    Each thread is loaded with the reader's read-through row and, for a `ThreadPage` with
    `messages`, its newest `messages + 1` messages (the extra one says whether there are
    more), told to `each_joined` as (thread, ThreadRead or None[, Message or None]) rows,
    a thread's messages newest first."""
    ids = _message_ids(grants)
    unread = page.filter == UNREAD
    messages = page.messages if isinstance(page, ThreadPage) else None
    joined: tuple[tuple[Any, ColumnElement[bool]], ...] = WITH_READ_THROUGH
    then_by: list[Any] = []
    params: dict[str, Any] = {"reader": reader_of(grants)}
    form = None  # the statement's form as to messages: none, or the dialect's join
    if messages is not None:
        form = "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"
        latest = _LATEST_MESSAGES[form]
        joined = (*WITH_READ_THROUGH, *latest)
        message = latest[0][0]
        then_by = [message.sent_at.desc(), message.id.desc()]
        params["message_limit"] = messages + 1

    def query() -> Select[Any]:
        # The parents are the patients (`pages_per_parent` restricts to them).
        query = select(m.MessageThread)
        if unread:
            query = query.where(
                _has_unread(bindparam("reader", type_=m.ThreadRead.account_id.type))
            )
        return query

    return await pages_per_parent(
        session,
        query,
        m.MessageThread.patient_id,
        ids,
        THREAD_SORT,
        page,
        shape=("threads", unread, form),
        params=params,
        joined=joined,
        each_joined=each_joined,
        then_by=then_by,
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
    """One page of messages per thread, newest first, only of threads the grants cover."""

    def query() -> Select[Any]:
        return (
            select(m.Message)
            .join(m.MessageThread, m.MessageThread.id == m.Message.thread_id)
            .where(one_of(m.MessageThread.patient_id, "patient_ids"))
        )

    return await pages_per_parent(
        session,
        query,
        m.Message.thread_id,
        thread_ids,
        MESSAGE_SORT,
        page,
        shape="messages",
        params={"patient_ids": _message_ids(grants)},
    )


async def messages_by_id(
    session: AsyncSession, grants: Sequence[PatientGrant], ids: Sequence[str]
) -> list[m.Message]:
    stmt = (
        select(m.Message)
        .join(m.MessageThread, m.MessageThread.id == m.Message.thread_id)
        .where(m.Message.id.in_(ids), m.MessageThread.patient_id.in_(_message_ids(grants)))
    )
    return list((await session.scalars(stmt)).all())


# Built once per process (persistence/paging.py says why): the unread counts of every screen.
_READER = m.ThreadRead.account_id.type
UNREAD_BY_THREAD = (
    _unread_messages(bindparam("reader", type_=_READER))
    .add_columns(m.Message.thread_id, func.count())
    .where(
        one_of(m.Message.thread_id, "thread_ids"),
        one_of(m.MessageThread.patient_id, "patient_ids"),
    )
    .group_by(m.Message.thread_id)
)
UNREAD_BY_PATIENT = (
    _unread_messages(bindparam("reader", type_=_READER))
    .add_columns(m.MessageThread.patient_id, func.count())
    .where(one_of(m.MessageThread.patient_id, "patient_ids"))
    .group_by(m.MessageThread.patient_id)
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
    rows = (await session.execute(UNREAD_BY_THREAD, values)).all()
    return {thread_id: count for thread_id, count in rows}


async def unread_by_patient(
    session: AsyncSession, grants: Sequence[PatientGrant]
) -> dict[str, int]:
    """The reader's unread count per patient (patients with none are absent)."""
    values = {"reader": reader_of(grants), "patient_ids": _message_ids(grants)}
    rows = (await session.execute(UNREAD_BY_PATIENT, values)).all()
    return {patient_id: count for patient_id, count in rows}


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
