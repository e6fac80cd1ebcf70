"""What the durable audit of subscription deliveries costs, in process (docs/realtime.md).

    python -m bench.audit_writes [--postgres URL] [--events 300]

On a PostgreSQL database of its own (migrated, empty, dropped at the end), the audit rows
of `--events` events are handed over the way a delivery does it, and the process CPU
(`time.process_time`) and wall time per delivery are reported:
- `buffered`: `AuditWriter.submit`, written later by the background writer (as before);
- `durable, 1 subscriber`: `write_together` per event, one delivery at a time;
- `durable, fan-out 100`: 100 deliveries of each event at once (one account's 100
  subscriptions), which the group commit folds into a few INSERTs.
The CPU of the buffered rows' eventual flush is counted too (`close()`), so the
figures compare whole costs. Not a test; seconds to run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bench.realtime import create_database
from persistence.audit import AuditEntry, AuditWriter
from persistence.db import create_engine, reading_engine, session_factory

FAN_OUT = 100


def _entry(n: int) -> AuditEntry:
    return AuditEntry(
        at=datetime.now(UTC),
        account_id="acc-bench",
        actor_name="Bench",
        patient_id=f"pat-{n % 50}",
        acting_as="self",
        action="read",
        operation="messageReceived",
        object_types="Message,MessageThread",
        request_id="req-bench",
        client_address="127.0.0.1",
    )


async def _measure(label: str, deliveries: int, run: Callable[[], Awaitable[None]]) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    await run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{label:<24} {cpu / deliveries * 1000:7.3f} CPU ms  {wall / deliveries * 1000:7.3f} "
        f"wall ms per delivery ({deliveries} deliveries)",
        flush=True,
    )


async def main(args: argparse.Namespace) -> None:
    url, drop = await create_database(args.postgres, patients=1)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        autocommit = session_factory(reading_engine(engine))
        events = args.events
        writer = AuditWriter(sessions, interval=0.5)
        await writer.write_together([_entry(0)], autocommit)  # warm the pool and statement

        async def buffered() -> None:
            writer.start()
            for n in range(events):
                writer.submit([_entry(n)])
                await asyncio.sleep(0)
            await writer.close()

        async def one_at_a_time() -> None:
            for n in range(events):
                await writer.write_together([_entry(n)], autocommit)

        async def fan_out() -> None:
            for n in range(events // 10):
                deliveries = (
                    writer.write_together([_entry(n)], autocommit) for _ in range(FAN_OUT)
                )
                await asyncio.gather(*deliveries)

        for _ in range(2):  # the second round is the one to read: the first warms up
            await _measure("buffered", events, buffered)
            await _measure("durable, 1 subscriber", events, one_at_a_time)
            await _measure(f"durable, fan-out {FAN_OUT}", events // 10 * FAN_OUT, fan_out)
    finally:
        await engine.dispose()
        await drop()


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL URL to create the benchmark database next to",
    )
    parser.add_argument("--events", type=int, default=300, help="events per scenario")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
