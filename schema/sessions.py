"""The viewer's sessions: one per sign-in on a device (docs/sessions.md)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from schema.base import to_global_id

if TYPE_CHECKING:
    from persistence import models as m


@strawberry.type(
    description="A signed-in device: one sign-in and its refreshes, until it is signed out "
    "(`signOut`, `signOutSession`, `signOutEverywhere`, a password change or reset) or expires."
)
class AccountSession:
    id: strawberry.ID = strawberry.field(description="For `signOutSession`.")
    device: str = strawberry.field(
        description='The browser and system its User-Agent names ("Firefox on Windows"), '
        'else the client\'s name ("curl"), else "Unknown device".'
    )
    user_agent: str | None = strawberry.field(description="As the client sent it at sign-in.")
    client_address: str | None = strawberry.field(description="Where it was last used from.")
    started_at: datetime
    last_used_at: datetime = strawberry.field(
        description="Noted at most once a minute, so it may lag by up to a minute."
    )
    current: bool = strawberry.field(description="The session this request is made in.")

    @classmethod
    def from_row(cls, row: m.AccountSession, current: bool) -> AccountSession:
        return cls(
            id=to_global_id("AccountSession", row.id),
            device=row.device,
            user_agent=row.user_agent,
            client_address=row.client_address,
            started_at=row.started_at,
            last_used_at=row.last_used_at,
            current=current,
        )
