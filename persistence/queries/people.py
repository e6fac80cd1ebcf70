"""Accounts, patients, grants, providers and departments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import GrantFacts, PatientGrant, Principal
from domain.scopes import GrantStatus, Relationship, Scope, SensitiveCategory
from persistence import models as m
from persistence import raw
from persistence.paging import fields_of, one_of
from persistence.queries.guard import own_patient_id, patient_ids


class GrantRow(NamedTuple):
    """What a proxy grant's facts are made of (a plain row, no ORM entity)."""

    id: str
    patient_id: str
    relationship: str
    scopes: list[str]
    status: str
    starts_at: datetime
    ends_at: datetime | None
    opened_note_categories: list[str] | None


class PatientRow(NamedTuple):
    """A patient as the read path has it (a plain row, no ORM entity)."""

    id: str
    mrn: str
    given_name: str
    family_name: str
    preferred_name: str | None
    pronouns: str | None
    birth_date: date
    sex: str
    email: str | None
    phone: str | None
    address: dict[str, Any] | None
    pcp_provider_id: str | None


# Built once: the statements every request runs (persistence/paging.py says why). Core
# columns, not entities: every request and every delivered event starts here.
_A, _G, _P, _S = (
    m.Account.__table__,
    m.ProxyGrant.__table__,
    m.Patient.__table__,
    m.AccountSession.__table__,
)
_OWN = _P.alias("own_patient")
_GRANT_COLUMNS = fields_of(_G, GrantRow._fields)
_PATIENT_FIELDS = PatientRow._fields
_GRANT_AT, _PATIENT_AT = 2, 2 + len(_GRANT_COLUMNS)
_OWN_AT = _PATIENT_AT + len(_PATIENT_FIELDS)


def _principal(*, in_session: bool, with_patients: bool) -> Select[Any]:
    """The account outer-joined to its grants and their patients (their birth dates, or with
    `with_patients` the whole rows, the account's own patient's too); `in_session`: joined
    to the token's session, so no row at all once that session has ended. A row: the
    account's patient id and display name, the grant's columns, then the patients' (or the
    birth date), then the session's last use."""
    columns: list[Any] = [_A.c.patient_id, _A.c.display_name, *_GRANT_COLUMNS]
    if with_patients:
        columns += [*fields_of(_P, _PATIENT_FIELDS), *fields_of(_OWN, _PATIENT_FIELDS)]
    else:
        columns.append(_P.c.birth_date)
    if in_session:
        columns.append(_S.c.last_used_at)
    stmt = select(*columns).select_from(_A)
    if in_session:
        stmt = stmt.join(
            _S,
            (_S.c.account_id == _A.c.id)
            & (_S.c.id == bindparam("session_id", type_=_S.c.id.type))
            & _S.c.ended_at.is_(None),
        )
    stmt = stmt.outerjoin(_G, _G.c.proxy_account_id == _A.c.id).outerjoin(
        _P, _P.c.id == _G.c.patient_id
    )
    if with_patients:
        stmt = stmt.outerjoin(_OWN, _OWN.c.id == _A.c.patient_id)
    return stmt.where(_A.c.id == bindparam("account_id", type_=_A.c.id.type))


PRINCIPAL = _principal(in_session=False, with_patients=False)
# (in the token's session, with the patients' rows) -> the statement
_PRINCIPALS = {
    (in_session, with_patients): _principal(in_session=in_session, with_patients=with_patients)
    for in_session in (False, True)
    for with_patients in (False, True)
}
PATIENTS = select(*fields_of(_P, _PATIENT_FIELDS)).where(one_of(_P.c.id, "ids"))


class AccountRow(NamedTuple):
    """An account as the read path shows it (no credentials: those stay with the writes)."""

    id: str
    username: str
    email: str
    display_name: str
    patient_id: str | None
    last_login_at: datetime | None


ACCOUNTS = select(*fields_of(_A, AccountRow._fields)).where(one_of(_A.c.id, "ids"))


class ProviderRow(NamedTuple):
    """A provider as the read path has it (a plain row, no ORM entity)."""

    id: str
    given_name: str
    family_name: str
    credentials: str
    display_name: str
    specialty: str
    department_id: str
    accepts_new_patients: bool


class DepartmentRow(NamedTuple):
    id: str
    name: str
    facility: str
    specialty: str
    address: dict[str, Any]
    phone: str
    timezone: str


PROVIDER_COLUMNS = fields_of(m.Provider.__table__, ProviderRow._fields)
DEPARTMENT_COLUMNS = fields_of(m.Department.__table__, DepartmentRow._fields)
PROVIDERS = select(*PROVIDER_COLUMNS).where(one_of(m.Provider.__table__.c.id, "ids"))
DEPARTMENTS = select(*DEPARTMENT_COLUMNS).where(one_of(m.Department.__table__.c.id, "ids"))


async def principal_for(
    session: AsyncSession, account_id: str, now: datetime
) -> tuple[Principal | None, str]:
    """The account and every grant it holds, and the account's display name.

    One statement (the account, outer-joined to its grants and their patients' birth dates):
    every request and every delivered event starts here."""
    rows = await raw.rows(session, PRINCIPAL, {"account_id": account_id})
    if not rows:
        return None, ""
    own_patient_id, display_name = rows[0][0], rows[0][1]
    grants = tuple(
        grant_facts(GrantRow._make(row[_GRANT_AT:_PATIENT_AT]), row[_PATIENT_AT])
        for row in rows
        if row[_GRANT_AT] is not None
    )
    return Principal(account_id, now, own_patient_id, grants), display_name


@dataclass(frozen=True)
class SessionPrincipal:
    principal: Principal
    display_name: str
    session_last_used_at: datetime
    # With `with_patients`: the rows of the account's own patient and of every patient it
    # holds a grant for, by id (the request's patient loader starts with them).
    patients: Mapping[str, PatientRow] = field(default_factory=dict)


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
    rows = await raw.rows(session, stmt, params)
    if not rows:
        return None
    own_patient_id, display_name = rows[0][0], rows[0][1]
    last_used_at = rows[0][-1] if session_id is not None else now
    patients: dict[str, PatientRow] = {}
    grants = []
    for row in rows:
        if with_patients:
            if row[_OWN_AT] is not None:
                own = PatientRow._make(row[_OWN_AT : _OWN_AT + len(_PATIENT_FIELDS)])
                patients[own.id] = own
            if row[_PATIENT_AT] is None:
                continue  # no grant
            patient = PatientRow._make(row[_PATIENT_AT:_OWN_AT])
            patients[patient.id] = patient
            birth_date = patient.birth_date
        else:
            birth_date = row[_PATIENT_AT]
        if row[_GRANT_AT] is not None:
            grants.append(grant_facts(GrantRow._make(row[_GRANT_AT:_PATIENT_AT]), birth_date))
    principal = Principal(account_id, now, own_patient_id, tuple(grants))
    return SessionPrincipal(principal, display_name, last_used_at, patients)


# Enum members by their stored value: a dict lookup where `Scope(value)` is two Python calls
# (EnumType.__call__, Enum.__new__), and iterating SensitiveCategory one more per member;
# every request reads its principal's grants (~15 calls a grant).
_RELATIONSHIPS = {r.value: r for r in Relationship}
_SCOPES = {s.value: s for s in Scope}
_STATUSES = {s.value: s for s in GrantStatus}
_CATEGORIES = {c.value: c for c in SensitiveCategory}


def grant_facts(grant: m.ProxyGrant | GrantRow, birth_date: date) -> GrantFacts:
    """The facts of a grant's row. A value that names no member fails as the enum's own
    constructor would (ValueError); an opened category that names none is left out."""
    relationship, status = grant.relationship, grant.status
    return GrantFacts(
        grant_id=grant.id,
        patient_id=grant.patient_id,
        relationship=_RELATIONSHIPS[relationship]
        if relationship in _RELATIONSHIPS
        else Relationship(relationship),
        scopes=frozenset(_SCOPES[s] if s in _SCOPES else Scope(s) for s in grant.scopes),
        status=_STATUSES[status] if status in _STATUSES else GrantStatus(status),
        starts_at=grant.starts_at,
        ends_at=grant.ends_at,
        patient_birth_date=birth_date,
        opened_categories=frozenset(
            _CATEGORIES[c] for c in grant.opened_note_categories or () if c in _CATEGORIES
        ),
    )


async def patients(session: AsyncSession, grants: Sequence[PatientGrant]) -> list[PatientRow]:
    ids = patient_ids(grants, None)
    return [PatientRow._make(row) for row in await raw.rows(session, PATIENTS, {"ids": ids})]


async def accounts_by_id(session: AsyncSession, ids: Sequence[str]) -> list[AccountRow]:
    rows = await raw.rows(session, ACCOUNTS, {"ids": list(ids)})
    return [AccountRow._make(row) for row in rows]


async def providers_by_id(session: AsyncSession, ids: Sequence[str]) -> list[ProviderRow]:
    rows = await raw.rows(session, PROVIDERS, {"ids": list(ids)})
    return [ProviderRow._make(row) for row in rows]


async def departments_by_id(session: AsyncSession, ids: Sequence[str]) -> list[DepartmentRow]:
    rows = await raw.rows(session, DEPARTMENTS, {"ids": list(ids)})
    return [DepartmentRow._make(row) for row in rows]


def providers_query(search: str | None) -> Select[m.Provider]:
    stmt = select(m.Provider)
    if search:
        # `%` and `_` are the searched text's own characters, not wildcards
        stmt = stmt.where(
            m.Provider.display_name.icontains(search, autoescape=True)
            | m.Provider.specialty.icontains(search, autoescape=True)
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
