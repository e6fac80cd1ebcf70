"""grantProxyAccess, acceptProxyInvitation, revokeProxyAccess, setResultReleasePreference
(rules: domain/proxies.py).

What a grant lets a proxy see (adolescent limits included) stays domain/access.py's alone:
these only create, bind and end grants. The principal is loaded afresh for every request and
every subscription event, so a revocation counts from the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain import account_mail
from domain import accounts as secrets_rules
from domain import proxies as rules
from domain.access import AgePolicy, PatientGrant, Principal
from domain.errors import BrokenInvariant
from domain.scopes import Relationship, Scope
from persistence import models as m
from persistence.mail import enqueue_mail
from persistence.uow import UnitOfWork


@dataclass(frozen=True)
class GrantProxyAccess:
    patient_id: str
    invitee_email: str
    relationship: Relationship
    scopes: list[Scope]
    ends_on: date | None


@dataclass(frozen=True)
class AcceptProxyInvitation:
    token: str


@dataclass(frozen=True)
class RevokeProxyAccess:
    grant_id: str


@dataclass(frozen=True)
class SetResultReleasePreference:
    patient_id: str
    kind: str  # a ResultKind value
    wait_for_doctor: bool


async def grant_proxy_access(
    command: GrantProxyAccess,
    own: PatientGrant,
    uow: UnitOfWork,
    ages: AgePolicy,
    policy: rules.ProxyPolicy,
    now: datetime,
) -> m.ProxyGrant:
    """`own`: the grant of the patient's own record (self only, checked by the caller). The
    invitation mail goes out with the grant, in the same transaction (outbox)."""
    email = rules.invitee_email(command.invitee_email)
    relationship = rules.grant_relationship(command.relationship)
    scopes = rules.grant_scopes(command.scopes)
    async with uow:
        grantor = await uow.proxies.grantor(own.patient_id)
        if grantor is None:
            raise BrokenInvariant("grantor is None: the signed-in patient's own record")
        rules.check_may_grant(grantor.birth_date, now, ages)
        ends_at = rules.grant_end(now, command.ends_on, ages, policy)
        token = secrets_rules.new_token()
        ttl = policy.invitation_ttl
        row = uow.proxies.add_invited_grant(
            patient_id=own.patient_id,
            email=email,
            relationship=relationship,
            scopes=scopes,
            ends_at=ends_at,
            token_hash=secrets_rules.hash_secret(token),
            invitation_expires_at=now + ttl,
            now=now,
        )
        subject, body = account_mail.proxy_invitation(grantor.display_name, token, ttl.days)
        enqueue_mail(uow.session, to=email, subject=subject, body=body, now=now)
        await uow.commit()
    return row


async def accept_proxy_invitation(
    command: AcceptProxyInvitation, principal: Principal, uow: UnitOfWork, now: datetime
) -> str:
    """Whoever holds the invitation's token and is signed in becomes the proxy: the token
    went only to the address the patient chose, as a password reset's does. The id of the
    patient the principal may now act for."""
    token = command.token.strip()
    if not token:
        raise rules.InvitationInvalid(field="token")
    async with uow:
        invitation = await uow.proxies.invitation(secrets_rules.hash_secret(token))
        if invitation is None:
            raise rules.InvitationInvalid(field="token")
        rules.check_invitation(invitation.expires_at, invitation.accepted_at, now)
        if invitation.patient_id == principal.patient_id:
            raise rules.OwnInvitation(field="token")
        if await uow.proxies.holds_active_grant(principal.account_id, invitation.patient_id):
            raise rules.AlreadyProxy(field="token")
        if not await uow.proxies.accept(invitation, principal.account_id, now):
            raise rules.InvitationInvalid(field="token")  # revoked or used meanwhile
        await uow.commit()
    return invitation.patient_id


async def grant_owner(uow: UnitOfWork, grant_id: str) -> str | None:
    """The patient who gave a grant: the caller checks it is the principal's own record."""
    async with uow:
        return await uow.proxies.grant_owner(grant_id)


async def revoke_proxy_access(
    command: RevokeProxyAccess, own: PatientGrant, uow: UnitOfWork, now: datetime
) -> m.ProxyGrant:
    """`own`: the grant of the record of the grant's owner (self only, checked by the caller)."""
    async with uow:
        if not await uow.proxies.revoke(command.grant_id, now):
            raise rules.AlreadyRevoked(field="grantId")
        row = await uow.proxies.grant(command.grant_id)
        if row is None:
            raise rules.GrantNotFound(field="grantId")
        await uow.commit()
    return row


async def set_result_release_preference(
    command: SetResultReleasePreference, own: PatientGrant, uow: UnitOfWork, now: datetime
) -> set[str]:
    """The patient's own choice (a proxy cannot hide results from the patient): every kind
    now waiting for the doctor."""
    async with uow:
        prefs = uow.release_preferences
        if command.wait_for_doctor:
            await prefs.hold(own.patient_id, command.kind, now)
        else:
            await prefs.release(own.patient_id, command.kind)
        held = await prefs.held_kinds(own.patient_id)
        await uow.commit()
    return held
