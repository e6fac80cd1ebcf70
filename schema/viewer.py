"""The signed-in viewer: their account and every patient context they may act in."""

from __future__ import annotations

import strawberry

from resolvers import devices as devices_r
from resolvers import sessions as sessions_r
from resolvers import sso as sso_r
from resolvers import viewer as r
from schema import messages as messages_s
from schema import notifications as notifications_s
from schema.base import Connection, Info
from schema.devices import Device
from schema.messages import MessageThread
from schema.notifications import Notification, NotificationPreference
from schema.patients import PatientContext
from schema.people import Account
from schema.sessions import AccountSession
from schema.sso import LinkedIdentity


@strawberry.type
class Viewer:
    account_id: strawberry.Private[str]

    @strawberry.field
    async def account(self, info: Info) -> Account:
        return Account.from_row(await r.account(info.context, self.account_id))

    @strawberry.field(description="Self first, then every patient an active grant covers.")
    def patients(self, info: Info) -> list[PatientContext]:
        return [PatientContext.from_facts(c) for c in r.patient_contexts(info.context)]

    @strawberry.field(
        description="One family inbox: the threads of every patient whose messages the viewer "
        "may read (each patient's rules applied), newest activity first."
    )
    async def inbox(
        self,
        info: Info,
        unread_only: bool | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[MessageThread]:
        return await messages_s.inbox(info, unread_only, first, after)

    @strawberry.field(
        description="Newest first; only those about what the viewer may still read right now."
    )
    async def notifications(
        self,
        info: Info,
        unread_only: bool | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Notification]:
        return await notifications_s.notifications(info, unread_only, first, after)

    @strawberry.field(
        description="For every notification kind, the channels that tell this account about "
        "it (IN_APP, EMAIL, SMS, PUSH); `isDefault` when no choice was made."
    )
    async def notification_preferences(self, info: Info) -> list[NotificationPreference]:
        return await notifications_s.notification_preferences(info)

    @strawberry.field(
        description="The account's signed-in devices, most recently used first, `current` "
        "marking this one. Only the account's own."
    )
    async def sessions(self, info: Info) -> list[AccountSession]:
        rows = await sessions_r.sessions(info.context)
        return [AccountSession.from_row(row, row.id == info.context.session_id) for row in rows]

    @strawberry.field(description="The browsers and phones that get this account's pushes.")
    async def devices(self, info: Info) -> list[Device]:
        return [Device.from_stored(d) for d in await devices_r.devices(info.context)]

    @strawberry.field(description="The single sign-on identities linked to this account.")
    async def linked_identities(self, info: Info) -> list[LinkedIdentity]:
        found = await sso_r.linked_identities(info.context)
        return [LinkedIdentity.from_stored(i, name) for i, name in found]


def viewer(info: Info) -> Viewer | None:
    """Query.viewer: null when signed out; an invalid token is UNAUTHENTICATED, not a null."""
    account_id = r.viewer_account_id(info.context)
    return Viewer(account_id=account_id) if account_id is not None else None
