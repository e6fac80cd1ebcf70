"""The viewer's notification feed and the account's notification preferences."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.base import SessionLoader
from persistence import models as m
from persistence.paging import Page, PageOf
from persistence.queries import notifications

# (account id, the grants the feed may show notifications for, page)
FeedKey = tuple[str, tuple[PatientGrant, ...], Page]
NotificationKey = tuple[str, tuple[PatientGrant, ...], str]


class NotificationPageByAccountLoader(SessionLoader[FeedKey, PageOf]):
    async def fetch(self, session: AsyncSession, keys: Sequence[FeedKey]) -> dict[FeedKey, PageOf]:
        return {key: await notifications.notification_page(session, *key) for key in set(keys)}


class NotificationByIdLoader(SessionLoader[NotificationKey, m.Notification]):
    """Keys sharing an account and grants (all of a request's) share one statement."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[NotificationKey]
    ) -> dict[NotificationKey, m.Notification]:
        by_feed: dict[tuple[str, tuple[PatientGrant, ...]], list[str]] = defaultdict(list)
        for account_id, grants, notification_id in keys:
            by_feed[(account_id, grants)].append(notification_id)
        found = {}
        for (account_id, grants), ids in by_feed.items():
            rows = await notifications.notifications_by_id(session, account_id, grants, ids)
            found.update({(account_id, grants, row.id): row for row in rows})
        return found


class NotificationPreferencesByAccountLoader(SessionLoader[str, dict[str, list[str]]]):
    """Keys are account ids (the viewer's own); values map kind -> chosen channels."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[str]
    ) -> dict[str, dict[str, list[str]]]:
        p = m.NotificationPreference
        stmt = select(p.account_id, p.kind, p.channels).where(p.account_id.in_(keys))
        found: dict[str, dict[str, list[str]]] = defaultdict(dict)
        for account_id, kind, channels in await session.execute(stmt):
            found[account_id][kind] = list(channels)
        return {key: found.get(key, {}) for key in keys}
