"""Proxy access a patient gives and ends, and what results wait for the doctor."""

from __future__ import annotations

import strawberry

from resolvers import proxy_actions as r
from schema import proxy_actions as s
from schema.base import Info


@strawberry.type
class ProxyMutations:
    @strawberry.mutation(
        description="An adult patient invites someone to their own record: the invitation "
        "mail carries a single-use code; the grant is PENDING until it is accepted. Age rules "
        "still limit what any grant shows."
    )
    async def grant_proxy_access(
        self, info: Info, input: s.GrantProxyAccessInput
    ) -> s.GrantProxyAccessPayload:
        return await r.grant_proxy_access(info, input)

    @strawberry.mutation(
        description="The signed-in account accepts an invitation code: the patient appears "
        "in viewer.patients with the scopes granted."
    )
    async def accept_proxy_invitation(
        self, info: Info, input: s.AcceptProxyInvitationInput
    ) -> s.AcceptProxyInvitationPayload:
        return await r.accept_proxy_invitation(info, input)

    @strawberry.mutation(
        description="The patient ends a pending or active grant; the proxy loses access from "
        "its next request, and its open subscriptions end."
    )
    async def revoke_proxy_access(
        self, info: Info, input: s.RevokeProxyAccessInput
    ) -> s.RevokeProxyAccessPayload:
        return await r.revoke_proxy_access(info, input)

    @strawberry.mutation(
        description="'Wait for my doctor': results of this kind stay pending until the clinic "
        "releases them, for the patient and every proxy. Self only."
    )
    async def set_result_release_preference(
        self, info: Info, input: s.SetResultReleasePreferenceInput
    ) -> s.SetResultReleasePreferencePayload:
        return await r.set_result_release_preference(info, input)
