"""The viewer's notification feed: only what the viewer may still read right now."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from domain.scopes import RecordArea
from persistence.paging import Page
from persistence.queries import notifications as q
from resolvers import patients as patients_r
from runtime.context import Context
from schema import notifications as s
from schema.base import Connection, cursor_values, page_size

if TYPE_CHECKING:
    from schema.base import Info
    from schema.patients import Patient


def feed_grants(ctx: Context) -> tuple[PatientGrant, ...]:
    """A grant per (patient, area) the policy allows now, plus demographics per patient."""
    grants = []
    for context in ctx.patient_contexts:
        grants.append(ctx.demographics(context.patient_id))
        for area in RecordArea:
            if context.area(area).allowed:
                grants.append(ctx.access(context.patient_id, area, "Notification"))
    return tuple(grants)


async def notifications(
    info: Info, unread_only: bool | None, first: int | None, after: str | None
) -> Connection[s.Notification]:
    account_id = info.context.require_principal().account_id
    page = Page(
        page_size(first), cursor_values(after, [datetime, str]), q.UNREAD if unread_only else None
    )
    key = (account_id, feed_grants(info.context), page)
    result = await info.context.loaders.notification_pages.get(key)
    if result is None:
        raise BrokenInvariant("result is None")
    return Connection.of(result, s.Notification.from_row)


async def notification_node(info: Info, notification_id: str) -> s.Notification | None:
    """node(id): the viewer's own, visible notifications only; anything else is null."""
    account_id = info.context.require_principal().account_id
    key = (account_id, feed_grants(info.context), notification_id)
    row = await info.context.loaders.notification.get(key)
    return s.Notification.from_row(row) if row else None


async def notification_patient(info: Info, patient_id: str | None) -> Patient | None:
    return await patients_r.patient(info, patient_id) if patient_id else None
