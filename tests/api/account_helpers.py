"""Shared setup of the account lifecycle tests: patients without accounts, codes, state."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from persistence import models as m
from persistence.lifecycle import ActivationCodeRepository
from tests.conftest import Portal
from tests.mailbox import Mailbox, smtp_server, use_mailbox

NEW_PASSWORD = "correct-horse-battery-2026"
ACTIVATE = """
mutation Activate($input: ActivateAccountInput!) {
  activateAccount(input: $input) {
    accessToken refreshToken
    viewer { account { username email } patients { relationship patient { id } } }
    errors { code message field }
  }
}
"""
SIGN_IN = """
mutation SignIn($input: SignInInput!) {
  signIn(input: $input) { accessToken refreshToken errors { code message field } }
}
"""


@dataclass(frozen=True)
class Person:
    id: str
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    email: str


def mailbox_for(portal: Portal) -> Iterator[Mailbox]:
    """For a test module's `mailbox` fixture: a real SMTP server the app delivers to."""
    with smtp_server() as box:
        use_mailbox(portal, box)
        yield box


async def people_without_account(portal: Portal, n: int = 1) -> list[Person]:
    """Adult patients of the demo data with an email on file and no account yet."""
    p, a = m.Patient, m.Account
    stmt = (
        select(p.id, p.mrn, p.given_name, p.family_name, p.birth_date, p.email)
        .outerjoin(a, a.patient_id == p.id)
        .where(a.id.is_(None), p.email.is_not(None), p.birth_date < date(2000, 1, 1))
        .order_by(p.id)
        .limit(n)
    )
    async with portal.services.sessions() as session:
        rows = (await session.execute(stmt)).all()
    assert len(rows) == n, "the demo data has adults without accounts"
    return [Person(*row[:5], email=str(row[5])) for row in rows]


async def activation_code(
    portal: Portal, patient_id: str, ttl: timedelta = timedelta(days=90)
) -> str:
    async with portal.services.sessions() as session:
        code = ActivationCodeRepository(session).create(patient_id, portal.clock.now(), ttl)
        await session.commit()
    return code


async def account_of(portal: Portal, patient_id: str) -> m.Account | None:
    async with portal.services.sessions() as session:
        stmt = select(m.Account).where(m.Account.patient_id == patient_id)
        return (await session.execute(stmt)).scalar_one_or_none()


async def account_named(portal: Portal, username: str) -> m.Account:
    async with portal.services.sessions() as session:
        stmt = select(m.Account).where(m.Account.username == username)
        return (await session.execute(stmt)).scalar_one()


async def count(portal: Portal, model: type[m.Base], *where: Any) -> int:
    async with portal.services.sessions() as session:
        stmt = select(func.count()).select_from(model).where(*where)
        return int((await session.execute(stmt)).scalar_one())


async def pending_mail(portal: Portal) -> int:
    return await count(portal, m.OutgoingMail, m.OutgoingMail.sent_at.is_(None))


async def activate(portal: Portal, **fields: Any) -> dict[str, Any]:
    result = await portal.gql(ACTIVATE, {"input": fields})
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["activateAccount"]
    return payload


async def sign_in(portal: Portal, username: str, password: str, **more: Any) -> dict[str, Any]:
    result = await portal.gql(
        SIGN_IN, {"input": {"username": username, "password": password, **more}}
    )
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["signIn"]
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]
