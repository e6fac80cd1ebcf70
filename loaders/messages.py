"""Message threads, messages and the viewer's unread counts: one statement per batch.

Every key carries the grant its parent was loaded through; the reader is the account that
grant was issued to, so one request's loaders only ever count for its own viewer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.base import PatientPageLoader, Plan, Read, SessionLoader, SessionSource
from persistence import models as m
from persistence.paging import Page, PageOf, page_from
from persistence.queries import messages

ThreadKey = tuple[PatientGrant, str]  # (grant of the thread's patient, thread id)
MessagePageKey = tuple[PatientGrant, str, Page]
InboxKey = tuple[tuple[PatientGrant, ...], Page]


class InboxPageByGrantsLoader(SessionLoader[InboxKey, PageOf]):
    """The family inbox: one page across all the grants of the key."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[InboxKey]
    ) -> dict[InboxKey, PageOf]:
        return {key: await messages.inbox_page(session, key[0], key[1]) for key in set(keys)}


class MessagePageByThreadLoader(SessionLoader[MessagePageKey, PageOf]):
    """One page per thread; keys asking for the same page shape share one statement."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[MessagePageKey]
    ) -> dict[MessagePageKey, PageOf]:
        by_page: dict[Page, list[ThreadKey]] = defaultdict(list)
        for grant, thread_id, page in keys:
            by_page[page].append((grant, thread_id))
        found: dict[MessagePageKey, PageOf] = {}
        for page, thread_keys in by_page.items():
            grants = list({grant for grant, _ in thread_keys})
            thread_ids = [thread_id for _, thread_id in thread_keys]
            pages = await messages.message_pages(session, grants, thread_ids, page)
            for grant, thread_id in thread_keys:
                found[(grant, thread_id, page)] = pages[thread_id]
        return found


class MessageByIdLoader(SessionLoader[ThreadKey, m.Message]):
    """Keys are (grant of the message's patient, message id). Each message's thread comes
    in the same statement and is handed to `threads` (the `ThreadByIdLoader` of the same
    loaders), under the key it would have been read with there: (the grant of the thread's
    patient, thread id), so reading the thread next is no second round trip."""

    threads: SessionLoader[tuple[PatientGrant, str], Any] | None = None

    async def fetch(
        self, session: AsyncSession, keys: Sequence[ThreadKey]
    ) -> dict[ThreadKey, m.Message]:
        grants = list({grant for grant, _ in keys})
        found = await messages.messages_by_id(session, grants, [i for _, i in keys])
        rows = {message.id: message for message, _ in found}
        threads = self.threads
        if threads is not None:
            for _, thread in found:
                # ThreadByIdLoader's rule: a thread is found through its own patient's grant.
                for grant in grants:
                    if grant.patient_id == thread.patient_id:
                        threads.prime((grant, thread.id), thread)
        return {key: rows[key[1]] for key in keys if key[1] in rows}


class OwnerByMessageLoader(SessionLoader[str, str]):
    """Message id -> the patient of its thread (before the access check); unknown ids absent."""

    async def fetch(self, session: AsyncSession, keys: Sequence[str]) -> dict[str, str]:
        return await messages.message_owners(session, list(set(keys)))


class UnreadCountByThreadLoader(SessionLoader[ThreadKey, int]):
    async def fetch(self, session: AsyncSession, keys: Sequence[ThreadKey]) -> dict[ThreadKey, int]:
        grants = list({grant for grant, _ in keys})
        counts = await messages.unread_by_thread(session, grants, [t for _, t in keys])
        return {key: counts.get(key[1], 0) for key in keys}


class UnreadCountByPatientLoader(SessionLoader[PatientGrant, int]):
    def plan(self, keys: Sequence[PatientGrant], dialect: str) -> Plan[PatientGrant, int]:
        values = messages.unread_by_patient_values(keys)

        def found(outcomes: list[dict[str, int]]) -> dict[PatientGrant, int]:
            [counts] = outcomes
            return {grant: counts.get(grant.patient_id, 0) for grant in keys}

        return Plan([Read(messages.UNREAD_BY_PATIENT, values, _counts)], found)


def _counts(rows: Sequence[Sequence[Any]]) -> dict[str, int]:
    return {patient_id: count for patient_id, count in rows}


class ReadThroughByThreadLoader(SessionLoader[ThreadKey, datetime]):
    """How far the viewer has read each thread; absent (None) when never opened."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[ThreadKey]
    ) -> dict[ThreadKey, datetime]:
        grants = list({grant for grant, _ in keys})
        read = await messages.read_through_by_thread(session, grants, [t for _, t in keys])
        return {key: read[key[1]] for key in keys if key[1] in read}


class MessageThreadPageByPatientLoader(PatientPageLoader):
    """Pages of threads, each loaded with how far the viewer has read it in the same
    statement: that primes the request's read-through loader (`readByMe`)."""

    def __init__(
        self,
        sessions: SessionSource,
        read_through: ReadThroughByThreadLoader,
        message_pages: MessagePageByThreadLoader,
    ) -> None:
        super().__init__(sessions)
        self.read_through = read_through
        self.message_pages = message_pages

    def page_read(
        self, grants: Sequence[PatientGrant], page: Page, dialect: str
    ) -> Read[dict[str, PageOf]]:
        """A `ThreadPage` with `messages` (the query asks that many of each thread's
        messages) loads them too, priming the message page loader."""
        read: dict[str, datetime | None] = {}
        latest: dict[str, list[messages.MessageRow]] = defaultdict(list)

        def collect(row: Sequence[Any]) -> None:
            read[row[0]] = messages.read_through_of(row)
            message = messages.message_of(row)
            if message is not None:
                latest[row[0]].append(message)

        threads = messages.thread_read(dialect, grants, page, collect)
        first = page.messages if isinstance(page, messages.ThreadPage) else None

        def finish(rows: Sequence[Sequence[Any]]) -> dict[str, PageOf]:
            pages = threads.pages(rows)
            for grant in grants:
                for thread in pages[grant.patient_id].rows:
                    self.read_through.prime((grant, thread.id), read.get(thread.id))
                    if first is not None:
                        shown = page_from(latest.get(thread.id, []), first, messages.MESSAGE_SORT)
                        self.message_pages.prime((grant, thread.id, Page(first)), shown)
            return pages

        return Read(threads.statement, threads.values, finish)
