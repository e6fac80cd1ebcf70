"""Repositories of the account lifecycle: activation codes, sign-up verifications, password
reset tokens, TOTP factors and email changes. Used through the unit of work.

Like persistence/accounts.py they hand out plain values, and every use of a code is a
conditional UPDATE (`used_at IS NULL`): two requests with one code cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Update, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.accounts import CodeState, hash_secret, new_activation_code, normalize_code
from persistence import models as m
from persistence.queries.guard import own_patient_id


async def _changed(session: AsyncSession, statement: Update) -> int:
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount


@dataclass(frozen=True)
class StoredCode:
    id: str
    owner_id: str | None  # the patient (activation, sign-up, email change) or account (reset)
    code_hash: str
    state: CodeState


@dataclass(frozen=True)
class PatientFacts:
    id: str
    given_name: str
    family_name: str
    preferred_name: str | None
    birth_date: date
    email: str | None
    account_id: str | None
    username: str | None


# -- patients as sign-up sees them ------------------------------------------------------------
async def patient_facts(session: AsyncSession, patient_id: str) -> PatientFacts | None:
    rows = await _patients(session, m.Patient.id == patient_id)
    return rows[0] if rows else None


async def patients_matching(
    session: AsyncSession, birth_date: date, mrn: str | None, email: str | None
) -> list[PatientFacts]:
    """Patients born that day with that MRN or that email on file (names compared by the
    caller, who knows how people type them)."""
    p = m.Patient
    either = []
    if mrn:
        either.append(p.mrn == mrn)
    if email:
        either.append(func.lower(p.email) == email.lower())
    return await _patients(session, p.birth_date == birth_date, or_(*either))


async def _patients(session: AsyncSession, *where: Any) -> list[PatientFacts]:
    p, a = m.Patient, m.Account
    stmt = (
        select(
            p.id,
            p.given_name,
            p.family_name,
            p.preferred_name,
            p.birth_date,
            p.email,
            a.id,
            a.username,
        )
        .outerjoin(a, a.patient_id == p.id)
        .where(*where)
        .order_by(p.id)
    )
    return [PatientFacts(*row) for row in (await session.execute(stmt)).all()]


# -- activation codes -------------------------------------------------------------------------
class ActivationCodeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def create(self, patient_id: str, now: datetime, ttl: timedelta) -> str:
        """A new code for the patient (added to the transaction); the only time it is seen."""
        code = new_activation_code()
        self._session.add(
            m.ActivationCode(
                id=m.new_id("act"),
                patient_id=patient_id,
                code_hash=hash_secret(normalize_code(code)),
                created_at=now,
                expires_at=now + ttl,
                used_at=None,
                attempts=0,
                account_id=None,
            )
        )
        return code

    async def by_code(self, code: str) -> StoredCode | None:
        c = m.ActivationCode
        stmt = select(c.id, c.patient_id, c.code_hash, c.expires_at, c.used_at, c.attempts).where(
            c.code_hash == hash_secret(normalize_code(code))
        )
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _stored(row)

    async def count_attempt(self, code_id: str) -> None:
        c = m.ActivationCode
        await _changed(
            self._session, update(c).where(c.id == code_id).values(attempts=c.attempts + 1)
        )

    async def use(self, code_id: str, account_id: str, now: datetime) -> bool:
        c = m.ActivationCode
        stmt = (
            update(c)
            .where(c.id == code_id, c.used_at.is_(None))
            .values(used_at=now, account_id=account_id)
        )
        return await _changed(self._session, stmt) == 1


def _stored(row: Any) -> StoredCode:
    code_id, owner, code_hash, expires_at, used_at, attempts = row
    return StoredCode(code_id, owner, code_hash, CodeState(expires_at, used_at, attempts))


# -- sign-up verifications --------------------------------------------------------------------
class SignUpRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def create(self, patient_id: str | None, code: str, now: datetime, ttl: timedelta) -> str:
        verification_id = m.new_id("suv")
        self._session.add(
            m.SignUpVerification(
                id=verification_id,
                patient_id=patient_id,
                code_hash=hash_secret(f"{verification_id}:{code}"),
                created_at=now,
                expires_at=now + ttl,
                used_at=None,
                attempts=0,
            )
        )
        return verification_id

    async def by_id(self, verification_id: str) -> StoredCode | None:
        v = m.SignUpVerification
        stmt = select(v.id, v.patient_id, v.code_hash, v.expires_at, v.used_at, v.attempts).where(
            v.id == verification_id
        )
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _stored(row)

    async def count_attempt(self, verification_id: str) -> None:
        v = m.SignUpVerification
        stmt = update(v).where(v.id == verification_id).values(attempts=v.attempts + 1)
        await _changed(self._session, stmt)

    async def use(self, verification_id: str, now: datetime) -> bool:
        v = m.SignUpVerification
        stmt = update(v).where(v.id == verification_id, v.used_at.is_(None)).values(used_at=now)
        return await _changed(self._session, stmt) == 1


# -- password reset tokens --------------------------------------------------------------------
class PasswordResetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(self, account_id: str, token: str, now: datetime, ttl: timedelta) -> None:
        """A new token; earlier unused ones of the account stop working (only the newest
        mail's link works, as people expect)."""
        t = m.PasswordResetToken
        await _changed(
            self._session,
            update(t).where(t.account_id == account_id, t.used_at.is_(None)).values(used_at=now),
        )
        self._session.add(
            t(
                id=m.new_id("prt"),
                account_id=account_id,
                token_hash=hash_secret(token),
                created_at=now,
                expires_at=now + ttl,
                used_at=None,
            )
        )

    async def by_token(self, token: str) -> StoredCode | None:
        t = m.PasswordResetToken
        stmt = select(t.id, t.account_id, t.token_hash, t.expires_at, t.used_at).where(
            t.token_hash == hash_secret(token)
        )
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _stored((*row, 0))

    async def use(self, token_id: str, now: datetime) -> bool:
        t = m.PasswordResetToken
        stmt = update(t).where(t.id == token_id, t.used_at.is_(None)).values(used_at=now)
        return await _changed(self._session, stmt) == 1


# -- TOTP -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredTotp:
    secret: str
    confirmed: bool
    last_used_step: int | None


class TotpRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of(self, account_id: str) -> StoredTotp | None:
        t = m.TotpFactor
        stmt = select(t.secret, t.confirmed_at, t.last_used_step).where(t.account_id == account_id)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else StoredTotp(row[0], row[1] is not None, row[2])

    async def start(self, account_id: str, secret: str, now: datetime) -> None:
        """A pending factor (replacing an earlier pending one)."""
        await self.remove(account_id)
        self._session.add(
            m.TotpFactor(
                account_id=account_id,
                secret=secret,
                created_at=now,
                confirmed_at=None,
                last_used_step=None,
            )
        )

    async def use_step(
        self, account_id: str, step: int, last_used_step: int | None, confirm_at: datetime | None
    ) -> bool:
        """Record `step` as used if no request used one since `last_used_step` was read: a
        code works once even when two requests present it at the same moment."""
        t = m.TotpFactor
        unchanged = (
            t.last_used_step.is_(None)
            if last_used_step is None
            else t.last_used_step == last_used_step
        )
        values: dict[str, Any] = {"last_used_step": step}
        if confirm_at is not None:
            values["confirmed_at"] = confirm_at
        stmt = update(t).where(t.account_id == account_id, unchanged).values(values)
        return await _changed(self._session, stmt) == 1

    async def remove(self, account_id: str) -> None:
        await self._session.execute(
            delete(m.TotpFactor).where(m.TotpFactor.account_id == account_id)
        )


# -- contact details and email changes --------------------------------------------------------
@dataclass(frozen=True)
class PendingEmailChange:
    id: str
    new_email: str
    code_hash: str
    state: CodeState


class ContactRepository:
    """Writes to a patient's contact details take the patient's own grant (self only)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def current(self, grant: PatientGrant) -> tuple[str | None, str | None]:
        """The patient's email on file and the account that is theirs (if any)."""
        patient_id = own_patient_id(grant)
        stmt = (
            select(m.Patient.email, m.Account.id)
            .outerjoin(m.Account, m.Account.patient_id == m.Patient.id)
            .where(m.Patient.id == patient_id)
        )
        email, account_id = (await self._session.execute(stmt)).one()
        return email, account_id

    async def update(self, grant: PatientGrant, values: dict[str, Any]) -> None:
        stmt = update(m.Patient).where(m.Patient.id == own_patient_id(grant)).values(values)
        await _changed(self._session, stmt)

    async def request_email_change(
        self,
        grant: PatientGrant,
        *,
        account_id: str,
        new_email: str,
        code: str,
        now: datetime,
        ttl: timedelta,
    ) -> None:
        """A new pending change; an earlier one still pending is dropped (its code dies)."""
        patient_id = own_patient_id(grant)
        e = m.EmailChangeRequest
        await _changed(
            self._session,
            update(e).where(e.patient_id == patient_id, e.used_at.is_(None)).values(used_at=now),
        )
        change_id = m.new_id("emc")
        self._session.add(
            e(
                id=change_id,
                patient_id=patient_id,
                account_id=account_id,
                new_email=new_email,
                code_hash=hash_secret(f"{change_id}:{code}"),
                created_at=now,
                expires_at=now + ttl,
                used_at=None,
                attempts=0,
            )
        )

    async def pending_email_change(self, grant: PatientGrant) -> PendingEmailChange | None:
        """The patient's email change not yet confirmed (a new request drops older ones, so
        there is at most one); expired or dead ones too: the caller tells why not."""
        e = m.EmailChangeRequest
        stmt = (
            select(e.id, e.new_email, e.code_hash, e.expires_at, e.used_at, e.attempts)
            .where(e.patient_id == own_patient_id(grant), e.used_at.is_(None))
            # Two concurrent requests can leave two: the newer one counts.
            .order_by(e.created_at.desc(), e.id.desc())
            .limit(1)
        )
        row = (await self._session.execute(stmt)).one_or_none()
        if row is None:
            return None
        change_id, new_email, code_hash, expires_at, used_at, attempts = row
        return PendingEmailChange(
            change_id, new_email, code_hash, CodeState(expires_at, used_at, attempts)
        )

    async def count_attempt(self, change_id: str) -> None:
        e = m.EmailChangeRequest
        stmt = update(e).where(e.id == change_id).values(attempts=e.attempts + 1)
        await _changed(self._session, stmt)

    async def use_email_change(self, change_id: str, now: datetime) -> bool:
        e = m.EmailChangeRequest
        stmt = update(e).where(e.id == change_id, e.used_at.is_(None)).values(used_at=now)
        return await _changed(self._session, stmt) == 1


# -- the mail outbox, read back -----------------------------------------------------------------
async def mails_to_since(session: AsyncSession, address: str, since: datetime) -> int:
    o = m.OutgoingMail
    stmt = select(func.count()).where(o.to_address == address, o.created_at > since)
    return int((await session.execute(stmt)).scalar_one())
