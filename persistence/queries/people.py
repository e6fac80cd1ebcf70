"""Accounts, patients, grants, providers and departments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.access import GrantFacts, PatientGrant, Principal
from domain.scopes import GrantStatus, Relationship, Scope, SensitiveCategory
from persistence import models as m
from persistence.paging import one_of
from persistence.queries.guard import own_patient_id, patient_ids

# Built once: the statements every request runs (persistence/paging.py says why).
_A, _G, _P, _S = m.Account, m.ProxyGrant, m.Patient, m.AccountSession
_OWN = aliased(m.Patient, name="own_patient")


def _principal(*, in_session: bool, with_patients: bool) -> Select[Any]:
    """The account outer-joined to its grants and their patients (their birth dates, or with
    `with_patients` the whole rows, the account's own patient's too); `in_session`: joined
    to the token's session, so no row at all once that session has ended."""
    columns: list[Any] = [_A.patient_id, _A.display_name, _G]
    columns += [_P, _OWN] if with_patients else [_P.birth_date]
    if in_session:
        columns.append(_S.last_used_at)
    stmt = select(*columns).select_from(_A)
    if in_session:
        stmt = stmt.join(
            _S,
            (_S.account_id == _A.id) & (_S.id == bindparam("session_id")) & _S.ended_at.is_(None),
        )
    stmt = stmt.outerjoin(_G, _G.proxy_account_id == _A.id).outerjoin(_P, _P.id == _G.patient_id)
    if with_patients:
        stmt = stmt.outerjoin(_OWN, _OWN.id == _A.patient_id)
    return stmt.where(_A.id == bindparam("account_id"))


PRINCIPAL = _principal(in_session=False, with_patients=False)
# (in the token's session, with the patients' rows) -> the statement
_PRINCIPALS = {
    (in_session, with_patients): _principal(in_session=in_session, with_patients=with_patients)
    for in_session in (False, True)
    for with_patients in (False, True)
}
PATIENTS = select(m.Patient).where(one_of(m.Patient.id, "ids"))
ACCOUNTS = select(m.Account).where(one_of(m.Account.id, "ids"))
PROVIDERS = select(m.Provider).where(one_of(m.Provider.id, "ids"))
DEPARTMENTS = select(m.Department).where(one_of(m.Department.id, "ids"))


async def principal_for(
    session: AsyncSession, account_id: str, now: datetime
) -> tuple[Principal | None, str]:
    """The account and every grant it holds, and the account's display name.

    One statement (the account, outer-joined to its grants and their patients' birth dates):
    every request and every delivered event starts here."""
    rows = (await session.execute(PRINCIPAL, {"account_id": account_id})).all()
    if not rows:
        return None, ""
    own_patient_id, display_name = rows[0][0], rows[0][1]
    grants = tuple(grant_facts(grant, birth) for _, _, grant, birth in rows if grant is not None)
    return Principal(account_id, now, own_patient_id, grants), display_name


@dataclass(frozen=True)
class SessionPrincipal:
    principal: Principal
    display_name: str
    session_last_used_at: datetime
    # With `with_patients`: the rows of the account's own patient and of every patient it
    # holds a grant for, by id (the request's patient loader starts with them).
    patients: Mapping[str, m.Patient] = field(default_factory=dict)


async def principal_in_session(
    session: AsyncSession,
    account_id: str,
    session_id: str | None,
    now: datetime,
    *,
    with_patients: bool = False,
) -> SessionPrincipal | None:
    """`principal_for`, in the same one statement, for a token of session `session_id`:
    None if the account is gone or the session is not its own or has ended. A token
    without a session (`None`: minted by operator tooling, docs/sessions.md) is not
    checked against one, and never needs its session touched. `with_patients`: the
    patients' rows come in the same statement (`SessionPrincipal.patients`)."""
    params = {"account_id": account_id}
    if session_id is not None:
        params["session_id"] = session_id
    stmt = _PRINCIPALS[(session_id is not None, with_patients)]
    rows = (await session.execute(stmt, params)).all()
    if not rows:
        return None
    own_patient_id, display_name = rows[0][0], rows[0][1]
    last_used_at = rows[0][-1] if session_id is not None else now
    patients: dict[str, m.Patient] = {}
    grants = []
    for row in rows:
        grant, patient = row[2], row[3]  # a birth date unless `with_patients`
        if with_patients:
            if row[4] is not None:
                patients[row[4].id] = row[4]
            if patient is not None:
                patients[patient.id] = patient
                patient = patient.birth_date
        if grant is not None:
            grants.append(grant_facts(grant, patient))
    principal = Principal(account_id, now, own_patient_id, tuple(grants))
    return SessionPrincipal(principal, display_name, last_used_at, patients)


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
        opened_categories=frozenset(
            c for c in SensitiveCategory if c.value in (grant.opened_note_categories or ())
        ),
    )


async def patients(session: AsyncSession, grants: Sequence[PatientGrant]) -> list[m.Patient]:
    ids = patient_ids(grants, None)
    return list((await session.scalars(PATIENTS, {"ids": ids})).all())


async def accounts_by_id(session: AsyncSession, ids: Sequence[str]) -> list[m.Account]:
    return list((await session.scalars(ACCOUNTS, {"ids": list(ids)})).all())


async def providers_by_id(session: AsyncSession, ids: Sequence[str]) -> list[m.Provider]:
    return list((await session.scalars(PROVIDERS, {"ids": list(ids)})).all())


async def departments_by_id(session: AsyncSession, ids: Sequence[str]) -> list[m.Department]:
    return list((await session.scalars(DEPARTMENTS, {"ids": list(ids)})).all())


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
