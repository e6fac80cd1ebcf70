"""Accounts, patients, grants, providers and departments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import GrantFacts, PatientGrant, Principal
from domain.scopes import GrantStatus, Relationship, Scope
from persistence import models as m
from persistence.queries.guard import own_patient_id, patient_ids


async def principal_for(
    session: AsyncSession, account_id: str, now: datetime
) -> tuple[Principal | None, str]:
    """The account and every grant it holds, and the account's display name.

    One statement (the account, outer-joined to its grants and their patients' birth dates):
    every request and every delivered event starts here."""
    a, g, p = m.Account, m.ProxyGrant, m.Patient
    stmt = (
        select(a.patient_id, a.display_name, g, p.birth_date)
        .select_from(a)
        .outerjoin(g, g.proxy_account_id == a.id)
        .outerjoin(p, p.id == g.patient_id)
        .where(a.id == account_id)
    )
    rows = (await session.execute(stmt)).all()
    if not rows:
        return None, ""
    own_patient_id, display_name = rows[0][0], rows[0][1]
    grants = tuple(grant_facts(grant, birth) for _, _, grant, birth in rows if grant is not None)
    return Principal(account_id, now, own_patient_id, grants), display_name


def grant_facts(grant: m.ProxyGrant, birth_date: date) -> GrantFacts:
    return GrantFacts(
        grant_id=grant.id,
        patient_id=grant.patient_id,
        relationship=Relationship(grant.relationship),
        scopes=frozenset(Scope(s) for s in grant.scopes),
        status=GrantStatus(grant.status),
        starts_at=grant.starts_at,
        ends_at=grant.ends_at,
        patient_birth_date=birth_date,
    )


async def patients(session: AsyncSession, grants: Sequence[PatientGrant]) -> list[m.Patient]:
    ids = patient_ids(grants, None)
    return list((await session.scalars(select(m.Patient).where(m.Patient.id.in_(ids)))).all())


async def accounts_by_id(session: AsyncSession, ids: Sequence[str]) -> list[m.Account]:
    return list((await session.scalars(select(m.Account).where(m.Account.id.in_(ids)))).all())


async def providers_by_id(session: AsyncSession, ids: Sequence[str]) -> list[m.Provider]:
    return list((await session.scalars(select(m.Provider).where(m.Provider.id.in_(ids)))).all())


async def departments_by_id(session: AsyncSession, ids: Sequence[str]) -> list[m.Department]:
    stmt = select(m.Department).where(m.Department.id.in_(ids))
    return list((await session.scalars(stmt)).all())


def providers_query(search: str | None) -> Select[m.Provider]:
    stmt = select(m.Provider)
    if search:
        pattern = f"%{search.lower()}%"
        stmt = stmt.where(
            m.Provider.display_name.ilike(pattern) | m.Provider.specialty.ilike(pattern)
        )
    return stmt


async def proxy_grants_of(session: AsyncSession, grant: PatientGrant) -> list[m.ProxyGrant]:
    """The grants a patient has given (self only), newest first."""
    stmt = (
        select(m.ProxyGrant)
        .where(m.ProxyGrant.patient_id == own_patient_id(grant))
        .order_by(m.ProxyGrant.starts_at.desc(), m.ProxyGrant.id)
    )
    return list((await session.scalars(stmt)).all())
