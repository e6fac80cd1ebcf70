"""grantProxyAccess, acceptProxyInvitation, revokeProxyAccess, setResultReleasePreference.

What a grant lets a proxy see (adolescent limits included) stays domain/access.py's alone:
these only create, bind and end grants. The principal is loaded afresh for every request and
every subscription event, so a revocation counts from the next one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import account_mail
from domain import accounts as secrets_rules
from domain import proxies as rules
from domain.errors import BrokenInvariant, DomainError
from persistence.mail import enqueue_mail
from persistence.uow import UnitOfWork
from resolvers.payloads import account_action, one_per_request, user_errors
from schema import proxy_actions as s
from schema.base import internal_id, to_global_id
from schema.enums import ResultKind
from schema.proxy import ProxyGrant

if TYPE_CHECKING:
    from schema.base import Info


class GrantNotFound(DomainError):
    code = "GRANT_NOT_FOUND"
    default_message = "This proxy access does not exist."


@user_errors(s.GrantProxyAccessPayload, s.ProxyGrantError, s.ProxyGrantErrorCode)
async def grant_proxy_access(
    info: Info, input: s.GrantProxyAccessInput
) -> s.GrantProxyAccessPayload:
    ctx = info.context
    settings = ctx.services.settings
    own = ctx.act_for_self(internal_id(input.patient_id, "Patient"), "ProxyGrant")
    email = rules.invitee_email(input.invitee_email)
    relationship = rules.grant_relationship(input.relationship)
    scopes = rules.grant_scopes(input.scopes)
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        grantor = await uow.proxies.grantor(own.patient_id)
        if grantor is None:
            raise BrokenInvariant("grantor is None: the signed-in patient's own record")
        rules.check_may_grant(grantor.birth_date, ctx.now, settings.ages)
        ends_at = rules.grant_end(ctx.now, input.ends_on, settings.ages, settings.proxies)
        token = secrets_rules.new_token()
        ttl = settings.proxies.invitation_ttl
        row = uow.proxies.add_invited_grant(
            patient_id=own.patient_id,
            email=email,
            relationship=relationship,
            scopes=scopes,
            ends_at=ends_at,
            token_hash=secrets_rules.hash_secret(token),
            invitation_expires_at=ctx.now + ttl,
            now=ctx.now,
        )
        subject, body = account_mail.proxy_invitation(grantor.display_name, token, ttl.days)
        enqueue_mail(uow.session, to=email, subject=subject, body=body, now=ctx.now)
        await uow.commit()
        return s.GrantProxyAccessPayload(grant=ProxyGrant.from_row(row))


@account_action
@user_errors(s.AcceptProxyInvitationPayload, s.ProxyGrantError, s.ProxyGrantErrorCode)
@one_per_request
async def accept_proxy_invitation(
    info: Info, input: s.AcceptProxyInvitationInput
) -> s.AcceptProxyInvitationPayload:
    """Whoever holds the invitation's token and is signed in becomes the proxy: the token
    went only to the address the patient chose, as a password reset's does."""
    ctx = info.context
    principal = ctx.require_principal()
    token = input.token.strip()
    if not token:
        raise rules.InvitationInvalid(field="token")
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        invitation = await uow.proxies.invitation(secrets_rules.hash_secret(token))
        if invitation is None:
            raise rules.InvitationInvalid(field="token")
        rules.check_invitation(invitation.expires_at, invitation.accepted_at, ctx.now)
        if invitation.patient_id == principal.patient_id:
            raise rules.OwnInvitation(field="token")
        if await uow.proxies.holds_active_grant(principal.account_id, invitation.patient_id):
            raise rules.AlreadyProxy(field="token")
        if not await uow.proxies.accept(invitation, principal.account_id, ctx.now):
            raise rules.InvitationInvalid(field="token")  # revoked or used meanwhile
        await uow.commit()
    return s.AcceptProxyInvitationPayload(patient_id=to_global_id("Patient", invitation.patient_id))


@user_errors(s.RevokeProxyAccessPayload, s.ProxyGrantError, s.ProxyGrantErrorCode)
async def revoke_proxy_access(
    info: Info, input: s.RevokeProxyAccessInput
) -> s.RevokeProxyAccessPayload:
    ctx = info.context
    grant_id = internal_id(input.grant_id, "ProxyGrant")
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        owner = await uow.proxies.grant_owner(grant_id)
    # Someone else's grant and no grant at all answer alike (SELF_ONLY).
    ctx.act_for_self(owner or "", "ProxyGrant")
    async with uow:
        if not await uow.proxies.revoke(grant_id, ctx.now):
            raise rules.AlreadyRevoked(field="grantId")
        row = await uow.proxies.grant(grant_id)
        if row is None:
            raise GrantNotFound(field="grantId")
        await uow.commit()
        return s.RevokeProxyAccessPayload(grant=ProxyGrant.from_row(row))


@user_errors(
    s.SetResultReleasePreferencePayload,
    s.ReleasePreferenceError,
    s.ReleasePreferenceErrorCode,
)
async def set_result_release_preference(
    info: Info, input: s.SetResultReleasePreferenceInput
) -> s.SetResultReleasePreferencePayload:
    """The patient's own choice (a proxy cannot hide results from the patient)."""
    ctx = info.context
    own = ctx.act_for_self(internal_id(input.patient_id, "Patient"), "ResultHoldPreference")
    kind = ResultKind(input.kind).value
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        prefs = uow.release_preferences
        if input.wait_for_doctor:
            await prefs.hold(own.patient_id, kind, ctx.now)
        else:
            await prefs.release(own.patient_id, kind)
        held = await prefs.held_kinds(own.patient_id)
        await uow.commit()
    return s.SetResultReleasePreferencePayload(
        held_kinds=[k for k in ResultKind if k.value in held]
    )
