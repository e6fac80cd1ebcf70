"""Writes of proxy grants and their invitations, through a unit of work.

State changes are conditional UPDATEs that say what they expect to find (an invitation not
accepted yet, a grant still pending): of two concurrent acceptances of one token, one wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Update, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.scopes import GrantStatus, Relationship, Scope
from persistence import models as m

PENDING, ACTIVE, REVOKED = (s.value for s in GrantStatus)


async def _changed(session: AsyncSession, statement: Update) -> int:
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount


@dataclass(frozen=True)
class Grantor:
    patient_id: str
    birth_date: date
    display_name: str


@dataclass(frozen=True)
class StoredInvitation:
    id: str
    grant_id: str
    patient_id: str
    expires_at: datetime
    accepted_at: datetime | None


class ProxyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def grantor(self, patient_id: str) -> Grantor | None:
        p = m.Patient
        stmt = select(p.birth_date, p.given_name, p.preferred_name, p.family_name).where(
            p.id == patient_id
        )
        row = (await self._session.execute(stmt)).one_or_none()
        if row is None:
            return None
        birth_date, given, preferred, family = row
        return Grantor(patient_id, birth_date, f"{preferred or given} {family}")

    def add_invited_grant(
        self,
        *,
        patient_id: str,
        email: str,
        relationship: Relationship,
        scopes: list[Scope],
        ends_at: datetime,
        token_hash: str,
        invitation_expires_at: datetime,
        now: datetime,
    ) -> m.ProxyGrant:
        """A pending grant bound to no account yet, and the invitation that will bind it."""
        grant = m.ProxyGrant(
            id=m.new_id("pxg"),
            patient_id=patient_id,
            proxy_account_id=None,
            relationship=relationship.value,
            scopes=[s.value for s in scopes],
            status=PENDING,
            starts_at=now,
            ends_at=ends_at,
            invitee_email=email,
            revoked_at=None,
        )
        invitation = m.ProxyInvitation(
            id=m.new_id("pxi"),
            grant_id=grant.id,
            email=email,
            token_hash=token_hash,
            created_at=now,
            expires_at=invitation_expires_at,
            accepted_at=None,
            accepted_by_account_id=None,
        )
        # The grant first: the invitation refers to it (no ORM relationship orders them).
        self._session.add(grant)
        self._session.add(invitation)
        return grant

    async def invitation(self, token_hash: str) -> StoredInvitation | None:
        inv, grant = m.ProxyInvitation, m.ProxyGrant
        stmt = (
            select(inv.id, inv.grant_id, grant.patient_id, inv.expires_at, inv.accepted_at)
            .join(grant, grant.id == inv.grant_id)
            .where(inv.token_hash == token_hash)
        )
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else StoredInvitation(*row)

    async def accept(self, invitation: StoredInvitation, account_id: str, now: datetime) -> bool:
        """Bind the pending grant to `account_id` and start it; False if the invitation was
        used, expired or its grant revoked meanwhile (then roll back)."""
        inv, grant = m.ProxyInvitation, m.ProxyGrant
        used = await _changed(
            self._session,
            update(inv)
            .where(inv.id == invitation.id, inv.accepted_at.is_(None), inv.expires_at > now)
            .values(accepted_at=now, accepted_by_account_id=account_id),
        )
        started = await _changed(
            self._session,
            update(grant)
            .where(grant.id == invitation.grant_id, grant.status == PENDING)
            .values(status=ACTIVE, proxy_account_id=account_id, starts_at=now),
        )
        return used == 1 and started == 1

    async def holds_active_grant(self, account_id: str, patient_id: str) -> bool:
        grant = m.ProxyGrant
        stmt = select(grant.id).where(
            grant.proxy_account_id == account_id,
            grant.patient_id == patient_id,
            grant.status == ACTIVE,
        )
        return (await self._session.scalar(stmt.limit(1))) is not None

    async def grant_owner(self, grant_id: str) -> str | None:
        return await self._session.scalar(
            select(m.ProxyGrant.patient_id).where(m.ProxyGrant.id == grant_id)
        )

    async def revoke(self, grant_id: str, now: datetime) -> bool:
        """End a pending or active grant; False if it was revoked already."""
        grant = m.ProxyGrant
        return (
            await _changed(
                self._session,
                update(grant)
                .where(grant.id == grant_id, grant.status.in_([PENDING, ACTIVE]))
                .values(status=REVOKED, revoked_at=now),
            )
            == 1
        )

    async def grant(self, grant_id: str) -> m.ProxyGrant | None:
        return await self._session.get(m.ProxyGrant, grant_id)
