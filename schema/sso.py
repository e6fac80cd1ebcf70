"""Single sign-on types shown outside its mutations: providers and linked identities."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from schema.base import Node

if TYPE_CHECKING:
    from persistence.sso import LinkedIdentity as StoredIdentity
    from runtime.sso_settings import ProviderSettings


@strawberry.type(description="An identity provider the portal accepts sign-ins from.")
class SsoProvider:
    id: str
    name: str

    @classmethod
    def from_settings(cls, provider: ProviderSettings) -> SsoProvider:
        return cls(id=provider.id, name=provider.name)


@strawberry.type(description="A sign-in at an identity provider, linked to the account.")
class LinkedIdentity(Node):
    provider: SsoProvider
    linked_at: datetime
    last_used_at: datetime | None
    internal_id: strawberry.Private[str]

    def node_id(self) -> str:
        return self.internal_id

    @classmethod
    def from_stored(cls, identity: StoredIdentity, provider_name: str) -> LinkedIdentity:
        return cls(
            provider=SsoProvider(id=identity.provider, name=provider_name),
            linked_at=identity.linked_at,
            last_used_at=identity.last_used_at,
            internal_id=identity.id,
        )
