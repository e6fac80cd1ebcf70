"""The session writes are use cases: a CLI, a job or a test calls them with a unit of work
and ports, no GraphQL, no HTTP (issue 14). The API tests (tests/api/test_auth.py,
test_sessions.py) cover the same writes through /graphql."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.errors import DomainError
from domain.identity import InvalidCredentials
from persistence import models as m
from persistence.uow import UnitOfWork
from tests.conftest import ACCOUNT_IDS, ALEX, DEMO_PASSWORD, Portal
from usecases import sessions as uc

CLIENT = uc.Client("curl/8.5.0", "203.0.113.9")


async def test_sign_in_refresh_and_sign_out_without_graphql(fresh_portal: Portal) -> None:
    services, now = fresh_portal.services, fresh_portal.clock.now()
    issuing = uc.Issuing(services.tokens, services.settings.refresh_token_ttl)
    lockout = services.settings.lockout
    uow = UnitOfWork(services.sessions)
    noted: list[str] = []

    wrong = uc.SignIn(ALEX, "not the password", None, CLIENT)
    with pytest.raises(InvalidCredentials):
        await uc.sign_in(wrong, uow, issuing, lockout, now, noted.append)
    assert noted == [ACCOUNT_IDS[ALEX]]  # the audit learns the account, refused or not

    done = await uc.sign_in(
        uc.SignIn(ALEX, DEMO_PASSWORD, None, CLIENT), uow, issuing, lockout, now, noted.append
    )
    assert done.principal.account_id == ACCOUNT_IDS[ALEX]
    assert done.terms_to_accept == []
    async with services.sessions() as session:
        started = await session.get(m.AccountSession, done.session.session_id)
    assert started is not None
    assert (started.account_id, started.client_address) == (ACCOUNT_IDS[ALEX], "203.0.113.9")

    refresh = uc.RefreshSession(done.session.refresh_token)
    rotated = await uc.refresh_session(refresh, uow, issuing, now, noted.append)
    assert rotated.session_id == done.session.session_id
    assert rotated.refresh_token != done.session.refresh_token

    await uc.sign_out(uc.SignOut(rotated.refresh_token), uow, now, noted.append)
    async with services.sessions() as session:
        ended = await session.scalar(
            select(m.AccountSession.ended_at).where(m.AccountSession.id == rotated.session_id)
        )
    assert ended is not None
    with pytest.raises(DomainError):  # an ended session's token refreshes nothing
        await uc.refresh_session(
            uc.RefreshSession(rotated.refresh_token), uow, issuing, now, noted.append
        )
