"""Giving, accepting and revoking proxy access, and the "wait for my doctor" choice: inputs,
payloads and their error codes (rules: domain/proxies.py)."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from domain.scopes import Relationship, Scope
from schema.enums import ResultKind
from schema.payloads import UserError
from schema.proxy import ProxyGrant


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


@strawberry.type
class GrantProxyAccessPayload:
    grant: ProxyGrant | None = None
    errors: list[ProxyGrantError] = strawberry.field(default_factory=list)


@strawberry.input
class AcceptProxyInvitationInput:
    token: str = strawberry.field(description="The token of the invitation mail.")


@strawberry.type
class AcceptProxyInvitationPayload:
    patient_id: strawberry.ID | None = strawberry.field(
        default=None, description="The patient the viewer may now act for (viewer.patients)."
    )
    errors: list[ProxyGrantError] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeProxyAccessInput:
    grant_id: strawberry.ID


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


@strawberry.type
class SetResultReleasePreferencePayload:
    held_kinds: list[ResultKind] | None = strawberry.field(
        default=None, description="Every kind now waiting for the doctor."
    )
    errors: list[ReleasePreferenceError] = strawberry.field(default_factory=list)
