"""A `portal serve` process killed between charging the card and recording the payment.

The sandbox gateway charges and then never answers (`tok_approve_no_answer`); the test waits
until the gateway's ledger holds the charge, kills the process with SIGKILL, and starts a new
one with the reconciliation job on. It asks the gateway by the attempt's reference and
records the payment: exactly once, and a retry of the request with the same idempotency key
answers with that payment without charging again. An attempt the gateway never received is
released.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from domain.billing import gateway_reference
from persistence import models as m
from persistence.billing import PENDING
from persistence.db import create_engine, session_factory
from schema.base import from_global_id
from tests.api.test_billing import OPEN_STATEMENTS, PAY, pay_input
from tests.conftest import ACCOUNT_IDS, ALEX, make_database, patient_gid
from tests.realtime.harness import Server, token_for

ALEX_ID = "pat-0000001"
HANGS = "tok_approve_no_answer"


async def wait_for(condition: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no {what} within {within}s")


def ledger_lines(path: Path, reference: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    return [e for e in entries if e["request"] == reference]


async def test_a_payment_charged_by_a_killed_process_is_settled_exactly_once(
    tmp_path: Path, dataset_dir: Path
) -> None:
    database = await make_database("sqlite", tmp_path, dataset_dir)
    engine = create_engine(database.url)
    sessions = session_factory(engine)
    token = token_for(ACCOUNT_IDS[ALEX])
    ledger = tmp_path / "sandbox-gateway.jsonl"  # the harness keeps it in the workdir
    reference = gateway_reference(ACCOUNT_IDS[ALEX], "pay-once")

    async def rows(statement_id: str) -> tuple[list[int], list[tuple[str, str | None]]]:
        async with sessions() as session:
            payments = await session.scalars(
                select(m.Payment.amount_cents).where(m.Payment.statement_id == statement_id)
            )
            attempts = await session.execute(
                select(m.PaymentAttempt.idempotency_key, m.PaymentAttempt.status).where(
                    m.PaymentAttempt.statement_id == statement_id
                )
            )
            return sorted(payments.all()), sorted((k, s) for k, s in attempts.all())

    first = await Server(database.url, tmp_path, {}).start()
    try:
        found = await first.gql(OPEN_STATEMENTS, {"id": patient_gid(ALEX_ID)}, token)
        statement = found["data"]["patient"]["statements"]["nodes"][0]["id"]
        statement_id = from_global_id(statement)[1]
        paid_before, _ = await rows(statement_id)

        async def pay_and_hang() -> str:
            async with httpx.AsyncClient(base_url=first.url, timeout=60) as client:
                response = await client.post(
                    "/graphql",
                    json={"query": PAY, "variables": pay_input(statement, 1000, "pay-once", HANGS)},
                    headers={"authorization": f"Bearer {token}"},
                )
                return response.text  # it never answers while the process lives

        request = asyncio.create_task(pay_and_hang())

        async def charged() -> bool:
            assert not request.done(), request.result()
            return bool(ledger_lines(ledger, reference))

        await wait_for(charged, 20, f"charge in the gateway's ledger:\n{first.log_tail()}")
        assert first.process is not None
        first.process.kill()  # SIGKILL: no shutdown, no settle
        await asyncio.to_thread(first.process.wait, 10)
        with contextlib.suppress(httpx.HTTPError):
            await request
    finally:
        await first.stop()

    # The charge went through, the process died before recording it: pending, holding 1000.
    assert await rows(statement_id) == (paid_before, [("pay-once", PENDING)])
    # And one attempt that died before the gateway was even asked.
    async with sessions() as session, session.begin():
        session.add(
            m.PaymentAttempt(
                id=m.new_id("pat"),
                account_id=ACCOUNT_IDS[ALEX],
                idempotency_key="never-charged",
                statement_id=statement_id,
                amount_cents=500,
                status=PENDING,
                decline_reason=None,
                payment_id=None,
                gateway_reference=None,
                created_at=datetime.now(UTC),
                completed_at=None,
            )
        )

    env = {"PAYMENT_RECONCILE_INTERVAL_SECONDS": "0.5", "PAYMENT_RECONCILE_AFTER_SECONDS": "0"}
    second = await Server(database.url, tmp_path, env).start()
    try:

        async def reconciled() -> bool:
            return (await rows(statement_id))[1] == [("pay-once", "succeeded")]

        await wait_for(reconciled, 20, "reconciliation")
        await asyncio.sleep(1.5)  # a few more rounds of the job: none may add anything
        assert await rows(statement_id) == (
            sorted([*paid_before, 1000]),
            [("pay-once", "succeeded")],  # the never-charged attempt was released
        )
        # The client retries its request: the recorded payment, not a second charge.
        retry = await second.gql(PAY, pay_input(statement, 1000, "pay-once"), token)
        payload = retry["data"]["payStatement"]
        assert payload["errors"] == []
        assert payload["payment"]["amount"]["amountCents"] == 1000
    finally:
        await second.stop()
    assert (await rows(statement_id))[0] == sorted([*paid_before, 1000])
    assert len(ledger_lines(ledger, reference)) == 1  # charged once, ever
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(m.PaymentAttempt)) == 1
    await engine.dispose()
