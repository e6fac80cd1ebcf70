"""The viewer's notification feed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

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
