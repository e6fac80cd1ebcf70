"""Giving, accepting and revoking proxy access, and the "wait for my doctor" choice: inputs
(decoded into the commands of usecases/proxies.py), payloads, error codes and the mutation
fields (rules: domain/proxies.py)."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from domain.scopes import Relationship, Scope
from resolvers import proxies as r
from schema.base import Info, internal_id, to_global_id
from schema.enums import ResultKind
from schema.payloads import UserError, account_action, one_per_request, user_errors
from schema.proxies import ProxyGrant
from usecases import proxies as usecases


@strawberry.enum
class ProxyGrantErrorCode(Enum):
    MINOR_CANNOT_GRANT = "MINOR_CANNOT_GRANT"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_RELATIONSHIP = "INVALID_RELATIONSHIP"
    NO_SCOPES = "NO_SCOPES"
    INVALID_END_DATE = "INVALID_END_DATE"
    INVALID_INVITATION = "INVALID_INVITATION"
    INVITATION_EXPIRED = "INVITATION_EXPIRED"
    OWN_INVITATION = "OWN_INVITATION"
    ALREADY_PROXY = "ALREADY_PROXY"
    ALREADY_REVOKED = "ALREADY_REVOKED"
    GRANT_NOT_FOUND = "GRANT_NOT_FOUND"
    ONE_CREDENTIAL_PER_REQUEST = "ONE_CREDENTIAL_PER_REQUEST"


@strawberry.type
class ProxyGrantError(UserError):
    code: ProxyGrantErrorCode


@strawberry.input
class GrantProxyAccessInput:
    patient_id: strawberry.ID = strawberry.field(description="The signed-in patient's own id.")
    invitee_email: str
    relationship: Relationship = strawberry.field(
        description="CAREGIVER, SPOUSE or GUARDIAN (a parent of an adult is a caregiver)."
    )
    scopes: list[Scope]
    ends_on: date | None = strawberry.field(
        default=None,
        description="The first day without access; by default 18 months from today.",
    )

    def command(self) -> usecases.GrantProxyAccess:
        return usecases.GrantProxyAccess(
            patient_id=internal_id(self.patient_id, "Patient"),
            invitee_email=self.invitee_email,
            relationship=self.relationship,
            scopes=self.scopes,
            ends_on=self.ends_on,
        )


@strawberry.type
class GrantProxyAccessPayload:
    grant: ProxyGrant | None = None
    errors: list[ProxyGrantError] = strawberry.field(default_factory=list)


@strawberry.input
class AcceptProxyInvitationInput:
    token: str = strawberry.field(description="The token of the invitation mail.")

    def command(self) -> usecases.AcceptProxyInvitation:
        return usecases.AcceptProxyInvitation(self.token)


@strawberry.type
class AcceptProxyInvitationPayload:
    patient_id: strawberry.ID | None = strawberry.field(
        default=None, description="The patient the viewer may now act for (viewer.patients)."
    )
    errors: list[ProxyGrantError] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeProxyAccessInput:
    grant_id: strawberry.ID

    def command(self) -> usecases.RevokeProxyAccess:
        return usecases.RevokeProxyAccess(internal_id(self.grant_id, "ProxyGrant"))


@strawberry.type
class RevokeProxyAccessPayload:
    grant: ProxyGrant | None = None
    errors: list[ProxyGrantError] = strawberry.field(default_factory=list)


@strawberry.enum
class ReleasePreferenceErrorCode(Enum):
    INVALID_INPUT = "INVALID_INPUT"


@strawberry.type
class ReleasePreferenceError(UserError):
    code: ReleasePreferenceErrorCode


@strawberry.input
class SetResultReleasePreferenceInput:
    patient_id: strawberry.ID
    kind: ResultKind
    wait_for_doctor: bool = strawberry.field(
        description="True: new results of this kind stay pending until the clinic releases "
        "them (for the patient and every proxy); false: they follow the usual release rules."
    )

    def command(self) -> usecases.SetResultReleasePreference:
        return usecases.SetResultReleasePreference(
            internal_id(self.patient_id, "Patient"),
            ResultKind(self.kind).value,
            self.wait_for_doctor,
        )


@strawberry.type
class SetResultReleasePreferencePayload:
    held_kinds: list[ResultKind] | None = strawberry.field(
        default=None, description="Every kind now waiting for the doctor."
    )
    errors: list[ReleasePreferenceError] = strawberry.field(default_factory=list)


# An account action: audited under its field name (done or refused), one credential check
# per request; the decorators take (info, input), so the field calls this.
@account_action
@user_errors(AcceptProxyInvitationPayload, ProxyGrantError, ProxyGrantErrorCode)
@one_per_request
async def accept_proxy_invitation(
    info: Info, input: AcceptProxyInvitationInput
) -> AcceptProxyInvitationPayload:
    patient_id = await r.accept_proxy_invitation(info.context, input.command())
    return AcceptProxyInvitationPayload(patient_id=to_global_id("Patient", patient_id))


@strawberry.type
class ProxyMutations:
    @strawberry.mutation(
        description="An adult patient invites someone to their own record: the invitation "
        "mail carries a single-use code; the grant is PENDING until it is accepted. Age rules "
        "still limit what any grant shows."
    )
    @user_errors(GrantProxyAccessPayload, ProxyGrantError, ProxyGrantErrorCode)
    async def grant_proxy_access(
        self, info: Info, input: GrantProxyAccessInput
    ) -> GrantProxyAccessPayload:
        row = await r.grant_proxy_access(info.context, input.command())
        return GrantProxyAccessPayload(grant=ProxyGrant.from_row(row))

    @strawberry.mutation(
        description="The signed-in account accepts an invitation code: the patient appears "
        "in viewer.patients with the scopes granted."
    )
    async def accept_proxy_invitation(
        self, info: Info, input: AcceptProxyInvitationInput
    ) -> AcceptProxyInvitationPayload:
        return await accept_proxy_invitation(info, input)

    @strawberry.mutation(
        description="The patient ends a pending or active grant; the proxy loses access from "
        "its next request, and its open subscriptions end."
    )
    @user_errors(RevokeProxyAccessPayload, ProxyGrantError, ProxyGrantErrorCode)
    async def revoke_proxy_access(
        self, info: Info, input: RevokeProxyAccessInput
    ) -> RevokeProxyAccessPayload:
        row = await r.revoke_proxy_access(info.context, input.command())
        return RevokeProxyAccessPayload(grant=ProxyGrant.from_row(row))

    @strawberry.mutation(
        description="'Wait for my doctor': results of this kind stay pending until the clinic "
        "releases them, for the patient and every proxy. Self only."
    )
    @user_errors(
        SetResultReleasePreferencePayload, ReleasePreferenceError, ReleasePreferenceErrorCode
    )
    async def set_result_release_preference(
        self, info: Info, input: SetResultReleasePreferenceInput
    ) -> SetResultReleasePreferencePayload:
        held = await r.set_result_release_preference(info.context, input.command())
        return SetResultReleasePreferencePayload(
            held_kinds=[k for k in ResultKind if k.value in held]
        )
