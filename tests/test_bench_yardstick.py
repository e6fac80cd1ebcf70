"""The benchmark's hand-written dashboard answers exactly what the GraphQL dashboard answers
(else its latency would not be a fair yardstick). PostgreSQL only: it is asyncpg."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bench import handwritten
from persistence import models as m
from tests.api.test_no_n_plus_one import DASHBOARD
from tests.conftest import NOW, Portal, patient_gid


async def test_the_handwritten_dashboard_answers_like_graphql(portal: Portal) -> None:
    settings = portal.services.settings
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("the hand-written yardstick is asyncpg: PostgreSQL only")
    async with portal.services.session() as session:
        accounts = (
            await session.execute(
                select(m.Account.id, m.Account.patient_id)
                .where(m.Account.patient_id.is_not(None))
                .order_by(m.Account.id)
                .limit(25)
            )
        ).all()
    app = handwritten.create_app(settings, clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    compared, items = 0, 0
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://yardstick") as client,
    ):
        for account_id, patient_id in accounts:
            token = await portal.token_for_account(account_id)
            variables: dict[str, Any] = {"id": patient_gid(str(patient_id)), "n": 10}
            expected = (await portal.gql(DASHBOARD, variables, token=token))["data"]["patient"]
            before = handwritten.queries
            response = await client.post(
                "/dashboard", json=variables, headers={"authorization": f"Bearer {token}"}
            )
            assert response.status_code == 200, response.text
            assert response.json()["data"]["patient"] == expected, patient_id
            assert handwritten.queries - before == handwritten.STATEMENTS
            compared += 1
            items += sum(
                len(expected[name]["edges"])
                for name in ("appointments", "results", "messageThreads", "statements")
            )
        other = await client.post(
            "/dashboard",
            json={"id": patient_gid(str(accounts[1][1])), "n": 10},
            headers={"authorization": f"Bearer {await portal.token_for_account(accounts[0][0])}"},
        )
        assert other.status_code == 403
    assert compared == len(accounts) > 5
    assert items > 50  # the comparison covered real lists, not empty ones
