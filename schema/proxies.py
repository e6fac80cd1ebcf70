"""What only the patient themself sees: the proxy grants they gave, and who read their record."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

import strawberry

from domain.scopes import GrantStatus, Relationship, Scope, SensitiveCategory
from resolvers import proxies as r
from schema.base import Connection, Info, Node, cursor_values, page_size

if TYPE_CHECKING:
    from persistence import models as m


@strawberry.type(description="The proxy's account, as the patient who granted access sees it.")
class ProxyAccount:
    display_name: str


@strawberry.type
class ProxyGrant(Node):
    relationship: Relationship
    scopes: list[Scope] = strawberry.field(description="What the grant names, before age rules.")
    status: GrantStatus
    starts_at: datetime
    ends_at: datetime | None
    invitee_email: str | None = strawberry.field(
        description="Where the invitation went (grants given through the portal)."
    )
    opened_note_categories: list[SensitiveCategory] = strawberry.field(
        description="Sensitive categories of clinical notes the patient opened to this proxy."
    )
    internal_id: strawberry.Private[str]
    proxy_account_id: strawberry.Private[str | None]  # None until the invitation is accepted

    def node_id(self) -> str:
        return self.internal_id

    @strawberry.field
    async def proxy(self, info: Info) -> ProxyAccount | None:
        if self.proxy_account_id is None:
            return None
        row = await r.proxy_account(info.context, self.proxy_account_id)
        return ProxyAccount(display_name=row.display_name) if row else None

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> ProxyGrant | None:
        row = await r.proxy_grant(info.context, row_id)
        return cls.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: m.ProxyGrant) -> ProxyGrant:
        named = set(row.scopes)
        return cls(
            internal_id=row.id,
            proxy_account_id=row.proxy_account_id,
            relationship=Relationship(row.relationship),
            scopes=[s for s in Scope if s.value in named],
            status=GrantStatus(row.status),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            invitee_email=row.invitee_email,
            opened_note_categories=[
                c for c in SensitiveCategory if c.value in (row.opened_note_categories or ())
            ],
        )


@strawberry.enum
class AccessAction(Enum):
    READ = "read"
    WRITE = "write"


@strawberry.type(description="One request that read or changed the record.")
class AccessLogEntry:
    at: datetime
    actor_name: str
    acting_as: Relationship
    action: AccessAction
    operation: str = strawberry.field(description="The GraphQL operation name.")
    object_types: list[str]
    client_address: str | None

    @classmethod
    def from_row(cls, row: m.AuditEvent) -> AccessLogEntry:
        return cls(
            at=row.at,
            actor_name=row.actor_name,
            acting_as=Relationship(row.acting_as),
            action=AccessAction(row.action),
            operation=row.operation,
            object_types=[t for t in row.object_types.split(",") if t],
            client_address=row.client_address,
        )


async def proxy_grants(info: Info, patient_id: str) -> list[ProxyGrant]:
    """Patient.proxyGrants: self only."""
    return [ProxyGrant.from_row(row) for row in await r.proxy_grants(info.context, patient_id)]


async def access_log(
    info: Info, patient_id: str, first: int | None, after: str | None
) -> Connection[AccessLogEntry]:
    """Patient.accessLog: self only, newest first."""
    size, after_values = page_size(first), cursor_values(after, [datetime, int])
    page = await r.access_log(info.context, patient_id, size, after_values)
    return Connection.of(page, AccessLogEntry.from_row)
