"""An account's notification feed, narrowed to what the account may still read right now.

A notification names the record area it tells about (`area`, a RecordArea value) and the
patient; it is shown only when one of the grants covers that area of that patient. Grants
with area None (demographics) admit account-level notifications that name a patient the
viewer may act for; notifications with neither area nor patient are the account's own.
The filter is SQL, so pages stay full and cursors stay right.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.scopes import RecordArea
from persistence import models as m
from persistence.paging import Page, PageOf, SortKey, page_of
from persistence.queries.guard import patient_ids

NOTIFICATION_SORT = SortKey((m.Notification.created_at, m.Notification.id), descending=True)
UNREAD = "UNREAD"  # `Page.filter` of a feed narrowed to notifications not yet read


def _visible(account_id: str, grants: Sequence[PatientGrant]) -> ColumnElement[bool]:
    by_area: dict[RecordArea | None, list[PatientGrant]] = defaultdict(list)
    for grant in grants:
        if grant.account_id != account_id:
            raise PermissionError("notification grants must be the account's own")
        by_area[grant.area].append(grant)
    allowed = [and_(m.Notification.area.is_(None), m.Notification.patient_id.is_(None))]
    for area, area_grants in by_area.items():
        area_column = (
            m.Notification.area.is_(None) if area is None else m.Notification.area == area.value
        )
        ids = patient_ids(area_grants, area)
        allowed.append(and_(area_column, m.Notification.patient_id.in_(ids)))
    return and_(m.Notification.account_id == account_id, or_(*allowed))


def _feed(account_id: str, grants: Sequence[PatientGrant]) -> Select[Any]:
    return select(m.Notification).where(_visible(account_id, grants))


async def notification_page(
    session: AsyncSession, account_id: str, grants: Sequence[PatientGrant], page: Page
) -> PageOf:
    """Newest first; `page.filter` UNREAD keeps only those not read yet."""
    query = _feed(account_id, grants)
    if page.filter == UNREAD:
        query = query.where(m.Notification.read_at.is_(None))
    return await page_of(session, query, NOTIFICATION_SORT, page)


async def notifications_by_id(
    session: AsyncSession, account_id: str, grants: Sequence[PatientGrant], ids: Sequence[str]
) -> list[m.Notification]:
    """Notifications of the account's feed by id; others' and hidden ones are absent."""
    stmt = _feed(account_id, grants).where(m.Notification.id.in_(ids))
    return list((await session.scalars(stmt)).all())
