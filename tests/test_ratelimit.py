"""Rate limits: the limiter on both backends (in process, Redis), and through HTTP: sign-in
attempts per username and per address (aliases and batches count every attempt), requests
per account, 429 with Retry-After, and refused attempts that change nothing."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from persistence import models as m
from runtime.http_settings import HttpSettings, Rate, RateLimits
from runtime.ratelimit import RateLimiter
from tests.conftest import ACCOUNT_IDS, ALEX, DEMO_PASSWORD, NOW, Database, Portal, _portal
from tests.front import portal_on

WRONG = "not-the-password-2026"
RATES = RateLimits(
    sign_in_per_username=Rate(3, 300),
    sign_in_per_address=Rate(10, 300),
    requests_per_account=Rate(5, 60),
)


def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis tests skipped: set TEST_REDIS_URL to run them")
    return url


# -- the limiter, on each backend -------------------------------------------------------
@pytest.fixture(params=["process", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "process":
        yield RateLimiter()
        return
    redis = Redis.from_url(redis_url())
    yield RateLimiter(redis, prefix=f"test-{uuid.uuid4().hex[:8]}:")
    await redis.aclose()


async def test_a_burst_up_to_the_limit_then_one_per_interval(limiter: RateLimiter) -> None:
    rate = Rate(3, 60)  # 3 at once, then one every 20 s
    assert [(await limiter.hit("k", rate, NOW)).allowed for _ in range(3)] == [True] * 3
    refused = await limiter.hit("k", rate, NOW)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(20)
    assert refused.retry_after_seconds == 20
    assert not (await limiter.hit("k", rate, NOW + timedelta(seconds=19))).allowed
    assert (await limiter.hit("k", rate, NOW + timedelta(seconds=20))).allowed
    assert not (await limiter.hit("k", rate, NOW + timedelta(seconds=20))).allowed
    assert (await limiter.hit("other", rate, NOW)).allowed  # keys are independent


async def test_several_events_at_once_count_each_and_a_refusal_costs_nothing(
    limiter: RateLimiter,
) -> None:
    rate = Rate(5, 50)
    assert (await limiter.hit("k", rate, NOW, cost=4)).allowed
    refused = await limiter.hit("k", rate, NOW, cost=2)  # 6 > 5
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(10)
    assert (await limiter.hit("k", rate, NOW, cost=1)).allowed  # the refused 2 were not counted
    assert not (await limiter.hit("other", rate, NOW, cost=6)).allowed  # more than a burst


async def test_a_clock_that_goes_back_does_not_lock_a_key_out(limiter: RateLimiter) -> None:
    rate = Rate(2, 60)
    later = NOW + timedelta(days=20)
    for _ in range(2):
        assert (await limiter.hit("k", rate, later)).allowed
    assert not (await limiter.hit("k", rate, later)).allowed
    # Back to NOW: not "wait 20 days" but a fresh allowance.
    assert (await limiter.hit("k", rate, NOW)).allowed


async def test_a_disabled_rate_allows_everything(limiter: RateLimiter) -> None:
    off = Rate.parse("off")
    assert all([(await limiter.hit("k", off, NOW)).allowed for _ in range(100)])


def test_rates_from_the_environment() -> None:
    assert Rate.parse("10/300") == Rate(10, 300)
    assert not Rate.parse("0").enabled


async def test_an_unreachable_redis_falls_back_to_counting_in_process() -> None:
    redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = RateLimiter(redis)
    rate = Rate(2, 60)
    results = [(await limiter.hit("k", rate, NOW)).allowed for _ in range(3)]
    assert results == [True, True, False]
    await redis.aclose()


# -- through HTTP ------------------------------------------------------------------------
SIGN_IN = (
    "mutation S($input: SignInInput!) { signIn(input: $input) { accessToken errors { code } } }"
)


def aliased_sign_ins(count: int, username: str, password: str = WRONG) -> str:
    fields = " ".join(
        f'a{i}: signIn(input: {{username: "{username}", password: "{password}"}}) '
        "{ accessToken errors { code } }"
        for i in range(count)
    )
    return f"mutation Many {{ {fields} }}"


async def sign_in(portal: Portal, username: str, password: str = WRONG) -> httpx.Response:
    body = {"query": SIGN_IN, "variables": {"input": {"username": username, "password": password}}}
    return await portal.client.post("/graphql", json=body)


def rate_limited(response: httpx.Response, retry_after: int) -> None:
    assert response.status_code == 429
    assert response.headers["retry-after"] == str(retry_after)
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry_after}
    assert f"{retry_after} seconds" in error["message"]


@pytest.fixture
async def limited(seeded_db: Database) -> AsyncIterator[Portal]:
    async for portal in _portal(seeded_db, http=HttpSettings(rates=RATES)):
        yield portal


@pytest.fixture
async def fresh_limited(fresh_db: Database) -> AsyncIterator[Portal]:
    async for portal in _portal(fresh_db, http=HttpSettings(rates=RATES)):
        yield portal


async def failures_of(portal: Portal, username: str) -> int:
    async with portal.services.session() as session:
        account = (
            await session.scalars(select(m.Account).where(m.Account.username == username))
        ).one()
        return account.failed_sign_ins


async def refresh_tokens(portal: Portal) -> int:
    async with portal.services.session() as session:
        return int(await session.scalar(select(func.count()).select_from(m.RefreshToken)) or 0)


async def test_sign_in_attempts_per_username(fresh_limited: Portal) -> None:
    portal = fresh_limited
    for _ in range(3):
        assert (await sign_in(portal, ALEX)).status_code == 200
    assert await failures_of(portal, ALEX) == 3
    tokens, before = await refresh_tokens(portal), portal.statements
    # Even the right password is not tried: the attempt is refused before anything runs.
    refused = await sign_in(portal, "  Alex.Rivera ", DEMO_PASSWORD)
    rate_limited(refused, 100)  # 3 per 300 s: one more every 100 s
    assert portal.statements == before  # nothing ran
    assert await failures_of(portal, ALEX) == 3
    assert await refresh_tokens(portal) == tokens

    portal.clock.advance(timedelta(seconds=100))
    allowed = await sign_in(portal, ALEX, DEMO_PASSWORD)
    assert allowed.json()["data"]["signIn"]["accessToken"]


async def test_aliases_count_every_attempt(fresh_limited: Portal) -> None:
    portal = fresh_limited
    before = portal.statements
    rate_limited(
        await portal.client.post("/graphql", json={"query": aliased_sign_ins(4, ALEX)}), 300
    )
    assert portal.statements == before  # four attempts asked, three allowed: none ran
    assert await failures_of(portal, ALEX) == 0

    three = await portal.client.post("/graphql", json={"query": aliased_sign_ins(3, ALEX)})
    assert three.status_code == 200
    # Each alias counts against the limit; only the first is checked (one per request).
    assert [a["errors"][0]["code"] for a in three.json()["data"].values()] == [
        "INVALID_CREDENTIALS",
        "ONE_CREDENTIAL_PER_REQUEST",
        "ONE_CREDENTIAL_PER_REQUEST",
    ]
    rate_limited(await sign_in(portal, ALEX), 100)


async def test_a_batch_counts_every_attempt(limited: Portal) -> None:
    portal = limited
    batch: list[dict[str, Any]] = [{"query": aliased_sign_ins(2, "nobody.batch")}] * 2
    response = await portal.client.post("/graphql", json=batch)
    assert response.status_code == 200
    first, second = response.json()
    assert [a["errors"][0]["code"] for a in first["data"].values()] == [
        "INVALID_CREDENTIALS",
        "ONE_CREDENTIAL_PER_REQUEST",
    ]
    assert second["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert "data" not in second


async def test_a_batch_with_refused_operations_says_when_to_retry(limited: Portal) -> None:
    def one(username: str) -> dict[str, Any]:
        return {"query": SIGN_IN, "variables": {"input": {"username": username, "password": WRONG}}}

    batch = [
        {"query": aliased_sign_ins(3, "nobody.one")},  # the username's 3 attempts
        one("nobody.one"),  # refused by the username's limit (one more every 100 s)
        {"query": aliased_sign_ins(3, "nobody.two")},
        {"query": aliased_sign_ins(3, "nobody.three")},  # the address's tenth attempt
        one("nobody.four"),  # refused by the address's limit (one more every 30 s)
    ]
    response = await limited.client.post("/graphql", json=batch)
    assert response.status_code == 200  # each operation answers for itself
    answers = response.json()
    waits = {
        i: a["errors"][0]["extensions"]["retryAfter"]
        for i, a in enumerate(answers)
        if a.get("errors") and a["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    }
    assert waits == {1: 100, 4: 30}
    assert response.headers["retry-after"] == "100"  # the longest wait


async def test_a_batch_without_refusals_has_no_retry_after(limited: Portal) -> None:
    response = await limited.client.post("/graphql", json=[{"query": "{ __typename }"}] * 2)
    assert response.status_code == 200
    assert "retry-after" not in response.headers


async def test_sign_in_attempts_per_address(limited: Portal) -> None:
    for i in range(10):
        assert (await sign_in(limited, f"nobody.{i}")).status_code == 200
    rate_limited(await sign_in(limited, "nobody.else"), 30)  # 10 per 300 s


async def test_requests_per_account(limited: Portal) -> None:
    headers = {"authorization": f"Bearer {await limited.token(ALEX)}"}
    query = {"query": "{ viewer { account { username } } }"}
    for _ in range(5):
        assert (await limited.client.post("/graphql", json=query, headers=headers)).is_success
    before = limited.statements
    rate_limited(await limited.client.post("/graphql", json=query, headers=headers), 12)
    assert limited.statements - before == 1  # authentication only: nothing ran
    # Another account has its own allowance; signed-out requests are not counted per account.
    other = {
        "authorization": f"Bearer {await limited.token_for_account(ACCOUNT_IDS['susan.walsh'])}"
    }
    assert (await limited.client.post("/graphql", json=query, headers=other)).is_success
    assert (await limited.client.post("/graphql", json={"query": "{ __typename }"})).is_success
    limited.clock.advance(timedelta(seconds=24))
    # Two more allowed by now; a batch of three is three requests.
    batch = [query] * 3
    rate_limited(await limited.client.post("/graphql", json=batch, headers=headers), 12)
    assert (await limited.client.post("/graphql", json=batch[:2], headers=headers)).is_success


# -- Redis: instances share the counts ----------------------------------------------------
async def test_instances_share_sign_in_counts_through_redis(seeded_db: Database) -> None:
    url = redis_url()
    settings = HttpSettings(rates=RATES, redis_prefix=f"test-{uuid.uuid4().hex[:8]}:")
    async with (
        portal_on(seeded_db, redis_url=url, http=settings) as first,
        portal_on(seeded_db, redis_url=url, http=settings) as second,
    ):
        assert (await sign_in(first, "nobody.shared")).status_code == 200
        assert (await sign_in(first, "nobody.shared")).status_code == 200
        assert (await sign_in(second, "nobody.shared")).status_code == 200
        rate_limited(await sign_in(second, "nobody.shared"), 100)
        rate_limited(await sign_in(first, "nobody.shared"), 100)


async def test_an_unreachable_redis_still_limits_in_process(seeded_db: Database) -> None:
    settings = HttpSettings(rates=RATES)
    async with portal_on(seeded_db, redis_url="redis://127.0.0.1:1/0", http=settings) as portal:
        for _ in range(3):
            assert (await sign_in(portal, "nobody.offline")).status_code == 200
        rate_limited(await sign_in(portal, "nobody.offline"), 100)
