"""Real-time benchmark: delivery latency from a write to the event on the client, and the
memory an idle subscription holds. Bounded in time (a few minutes); not a test.

    python -m bench.realtime [--postgres URL] [--redis URL] [--seconds 8] [--sizes 1,100,1000]

It creates a PostgreSQL database of its own (dropped at the end), loads a generated demo
dataset, starts real `portal serve` processes and opens real WebSocket clients
(graphql-transport-ws). Each write is an EHR provider reply (POST /integration/events);
latency runs to the moment the client has parsed the event, from two points:
- from the request: just before the write's request is sent (its HTTP round trip, the
  event's validation and the transaction included): an upper bound;
- from the commit: the write's response, which the server sends right after its commit
  returns (well under a millisecond later), so this is the delivery time itself, a hair
  short. An event may overtake the response; then this figure is negative.

Scenarios, at 1, 100 and 1000 concurrent subscribers:
- spread: every subscriber is a different patient's own account, subscribed to its own
  messages; writes go to random subscribed patients (each event reaches one subscriber);
- fan-out: every subscriber follows the same patient, so each write reaches all of them
  (each delivery re-checks access and loads the message: the worst case); one write at a
  time, the next once everyone has the previous one;
each on one instance, and across two instances via Redis (subscribers on A, writes on B).
Each also reports, from the subscribers' server's own metric
(`portal_subscription_delivery_seconds`), the time inside the server from the commit (an
event of the other instance: from its arrival) to each send, p50 and p99 over deliveries
(interpolated within the histogram's buckets, as Prometheus' `histogram_quantile`): for a
fan-out to 100 its p99 is the commit to about the last send. Each also reports the
subscribers' server CPU per delivery (from /proc, writes included when
one instance serves both; the fan-out's one write is shared by all its deliveries), and for
a fan-out to n > 1 (with n = 1 among the sizes) the same without the write: the slope of the
server CPU per write between n = 1 and n; and the benchmark process's own CPU per delivery
(its clients on the same cores: what they take is not the server's).
`--modes fanout --idle -1` runs the fan-out rows alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from persistence import models as m
from persistence.db import create_engine, normalize_url, session_factory
from persistence.demodata import Generator
from persistence.migrate import upgrade
from persistence.seed import load_dataset
from runtime.config import DEV_INTEGRATION_TOKEN
from runtime.security import hash_password
from tests.realtime.harness import Client, Server, provider_reply, token_for

QUERY = """subscription($p: ID, $afterSeq: ID) {
  messageReceived(patientId: $p, afterSeq: $afterSeq) { seq message { body } }
}"""
BENCH_ENV = {
    "WS_MAX_CONNECTIONS_PER_ACCOUNT": "100000",
    "REALTIME_RECHECK_SECONDS": "300",
}


@dataclass
class Target:
    account_id: str
    patient_gid: str
    thread_id: str
    provider_id: str


@dataclass
class Subscriber:
    client: Client
    op: str
    latencies: list[float] = field(default_factory=list)
    arrivals: list[tuple[str, float]] = field(default_factory=list)


async def delivery_buckets(server: Server) -> list[tuple[float, float]]:
    """The server's commit-to-send histogram: (upper bound, cumulative count) per bucket."""
    async with httpx.AsyncClient() as client:
        text_ = (await client.get(f"{server.url}/metrics", timeout=10)).text
    found = []
    for line in text_.splitlines():
        if line.startswith("portal_subscription_delivery_seconds_bucket{"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            found.append((float(bound), float(line.rsplit(" ", 1)[1])))
    return found


def bucket_quantile(
    before: list[tuple[float, float]], after: list[tuple[float, float]], q: float
) -> float | None:
    """Prometheus' histogram_quantile over the counts added between `before` and `after`."""
    counts = [(b, a - dict(before).get(b, 0.0)) for b, a in after]
    if not counts or counts[-1][1] <= 0:
        return None
    rank, lower, below = q * counts[-1][1], 0.0, 0.0
    for bound, cumulative in counts:
        if cumulative >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - below) / max(cumulative - below, 1e-9)
        lower, below = bound, cumulative
    return lower


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- setup ---------------------------------------------------------------------------------
async def create_database(base: str, patients: int, dataset: Path | None = None) -> tuple[str, Any]:
    """A PostgreSQL database of its own, migrated and loaded with `patients` generated demo
    patients (or the dataset directory given); returns its URL and how to drop it."""
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = make_url(normalize_url(base)).set(database=name).render_as_string(hide_password=False)

    async def drop() -> None:
        engine = create_engine(base, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()

    await asyncio.to_thread(upgrade, url)
    hashed = hash_password(uuid.uuid4().hex)  # nobody signs in: clients get tokens directly
    with tempfile.TemporaryDirectory() as tmp:
        if dataset is None:
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
            Generator(patients=patients, seed=7, now=now).write(tmp)
        engine = create_engine(url)
        await load_dataset(engine, str(dataset or tmp), lambda _password: hashed)
        await engine.dispose()
    return url, drop


async def targets(url: str) -> list[Target]:
    """Patients with their own account and a thread to reply in."""
    from schema.base import to_global_id

    engine = create_engine(url)
    async with session_factory(engine)() as session:
        rows = await session.execute(
            select(
                m.Account.id, m.Account.patient_id, m.MessageThread.id, m.MessageThread.provider_id
            )
            .join(m.MessageThread, m.MessageThread.patient_id == m.Account.patient_id)
            .where(m.MessageThread.provider_id.is_not(None))
            .order_by(m.Account.id, m.MessageThread.id)
        )
        found: dict[str, Target] = {}
        for account_id, patient_id, thread_id, provider_id in rows.all():
            found.setdefault(
                account_id,
                Target(
                    account_id,
                    str(to_global_id("Patient", str(patient_id))),
                    thread_id,
                    str(provider_id),
                ),
            )
    await engine.dispose()
    return list(found.values())


# -- measuring -----------------------------------------------------------------------------
async def subscribe(server: Server, target: Target, since: str) -> Subscriber:
    """A subscription that misses nothing after `since` (even if the server registers it
    after the first write commits)."""
    client = await Client.connect(server, token_for(target.account_id, ttl=_hour()))
    op = await client.subscribe(QUERY, {"p": target.patient_gid}, after=since)
    return Subscriber(client, op)


def _hour() -> timedelta:
    return timedelta(hours=1)


async def prime(writer: Server, subscribers: list[Subscriber], by_target: list[Target]) -> None:
    """One event to every subscribed patient: every subscription is live afterwards."""
    for target in {t.account_id: t for t in by_target}.values():
        await writer.post_event(provider_reply(target.thread_id, target.provider_id, "prime"))
    await asyncio.gather(*(s.client.data(s.op, 60) for s in subscribers))


@dataclass
class Ledger:
    """When each write was sent, and how many subscribers have received it."""

    sent: dict[str, float] = field(default_factory=dict)
    answered: dict[str, float] = field(default_factory=dict)  # the write's response came
    counts: dict[str, int] = field(default_factory=dict)
    everyone: dict[str, asyncio.Event] = field(default_factory=dict)
    audience: int = 1


async def listen(subscriber: Subscriber, ledger: Ledger) -> None:
    """Until its connection is closed. Reads the socket itself, not `Client.data` (a task
    per message for its timeout, on Python 3.11): the clients share the server's cores, and
    what they take for themselves is taken from the server."""
    try:
        async for raw in subscriber.client.ws:
            arrived = time.perf_counter()
            message = orjson.loads(raw)
            if message.get("id") != subscriber.op or message.get("type") not in ("next", "data"):
                continue
            _record(subscriber, ledger, message["payload"]["data"], arrived)
    except websockets.ConnectionClosed:
        return


def _record(subscriber: Subscriber, ledger: Ledger, data: dict[str, Any], arrived: float) -> None:
    body = data["messageReceived"]["message"]["body"]
    if body in ledger.sent:
        subscriber.latencies.append(arrived - ledger.sent[body])
        subscriber.arrivals.append((body, arrived))
        ledger.counts[body] = ledger.counts.get(body, 0) + 1
        if ledger.counts[body] == ledger.audience:
            ledger.everyone[body].set()


async def run_scenario(
    subscribe_on: Server, write_on: Server, chosen: list[Target], fanout: bool, seconds: float
) -> dict[str, Any]:
    subscribers = []
    since = await subscribe_on.seq()
    for batch in range(0, len(chosen), 50):
        subscribers += await asyncio.gather(
            *(subscribe(subscribe_on, t, since) for t in chosen[batch : batch + 50])
        )
    await prime(write_on, subscribers, chosen)
    buckets = await delivery_buckets(subscribe_on)
    cpu = subscribe_on.cpu_seconds()
    client_cpu = time.process_time()  # this process: the clients, their parsing, the writes
    ledger = Ledger(audience=len(subscribers) if fanout else 1)
    answered: list[float] = []  # how long the write's own request took
    listeners = [asyncio.create_task(listen(s, ledger)) for s in subscribers]
    # One HTTP client for the writes (`Server.post_event` makes one per write: about 25 ms
    # of this process's CPU each, its TLS context included, spent while events fan out).
    http = httpx.AsyncClient(
        base_url=write_on.url, headers={"authorization": f"Bearer {DEV_INTEGRATION_TOKEN}"}
    )

    async def write(target: Target) -> str:
        body = f"bench-{uuid.uuid4().hex[:10]}"
        ledger.everyone[body] = asyncio.Event()
        ledger.sent[body] = time.perf_counter()
        event = provider_reply(target.thread_id, target.provider_id, body)
        response = await http.post("/integration/events", json=event, timeout=10)
        response.raise_for_status()
        ledger.answered[body] = time.perf_counter()
        answered.append(ledger.answered[body] - ledger.sent[body])
        return body

    deadline = time.perf_counter() + seconds
    if fanout:
        # Closed loop: each write reaches everyone before the next (at least 3 writes).
        while time.perf_counter() < deadline or len(ledger.sent) < 3:
            body = await write(chosen[0])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ledger.everyone[body].wait(), 60)
    else:
        # Open loop: a steady 20 writes a second to random subscribed patients.
        while time.perf_counter() < deadline:
            await write(random.choice(chosen))
            await asyncio.sleep(0.05)
        waits = [e.wait() for e in ledger.everyone.values()]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*waits), 30)
    cpu = subscribe_on.cpu_seconds() - cpu
    client_cpu = time.process_time() - client_cpu
    buckets_after = await delivery_buckets(subscribe_on)
    await http.aclose()
    await asyncio.gather(*(s.client.close() for s in subscribers))
    await asyncio.gather(*listeners)  # each ends with its connection
    latencies = [x for s in subscribers for x in s.latencies]
    from_commit = [
        at - ledger.answered[body]
        for s in subscribers
        for body, at in s.arrivals
        if body in ledger.answered
    ]

    def ms(values: list[float], q: float) -> float | None:
        return round(percentile(values, q) * 1000, 1) if values else None

    return {
        "writes": len(ledger.sent),
        "deliveries": len(latencies),
        "expected": len(ledger.sent) * ledger.audience,
        "p50_ms": ms(latencies, 0.5),
        "p99_ms": ms(latencies, 0.99),
        "from_commit_p50_ms": ms(from_commit, 0.5),
        "from_commit_p99_ms": ms(from_commit, 0.99),
        "server_commit_to_send_p50_ms": _ms(bucket_quantile(buckets, buckets_after, 0.5)),
        "server_commit_to_send_p99_ms": _ms(bucket_quantile(buckets, buckets_after, 0.99)),
        "write_request_p50_ms": round(statistics.median(answered) * 1000, 1),
        # The subscribers' server, writes and all (on one instance it serves the writes too).
        "server_cpu_ms_per_delivery": round(cpu * 1000 / len(latencies), 2) if latencies else None,
        "server_cpu_ms_per_write": round(cpu * 1000 / len(ledger.sent), 2),
        # The benchmark's own process on the same cores: its clients receiving and parsing
        # each delivery (and sending the writes), competing with the server for the CPU.
        "client_cpu_ms_per_delivery": (
            round(client_cpu * 1000 / len(latencies), 3) if latencies else None
        ),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


async def idle_memory(server: Server, chosen: list[Target]) -> dict[str, Any]:
    """RSS growth per idle subscription (each on its connection, primed with one event),
    over all of them, and over the second half only: the marginal cost, without what the
    first ones warm up once (pooled connections and their statement caches, …)."""
    await asyncio.sleep(1)
    before = server.rss_bytes()
    subscribers: list[Subscriber] = []
    half = len(chosen) // 2
    middle = before
    for first, part in ((True, chosen[:half]), (False, chosen[half:])):
        since = await server.seq()
        opened: list[Subscriber] = []
        for batch in range(0, len(part), 50):
            opened += await asyncio.gather(
                *(subscribe(server, t, since) for t in part[batch : batch + 50])
            )
        await prime(server, opened, part)
        subscribers += opened
        gc.collect()
        await asyncio.sleep(2)
        if first:
            middle = server.rss_bytes()
    after = server.rss_bytes()
    await asyncio.gather(*(s.client.close() for s in subscribers))
    return {
        "subscriptions": len(subscribers),
        "rss_before_mb": round(before / 2**20, 1),
        "rss_after_mb": round(after / 2**20, 1),
        "kb_per_subscription": round((after - before) / len(subscribers) / 1024, 1),
        "kb_per_subscription_second_half": round(
            (after - middle) / max(1, len(chosen) - half) / 1024, 1
        ),
    }


async def scenarios(
    report: dict[str, Any],
    label: str,
    subscribe_on: Server,
    write_on: Server,
    pool: list[Target],
    sizes: list[int],
    seconds: float,
    modes: tuple[str, ...] = ("spread", "fanout"),
) -> None:
    for n in sizes:
        for fanout in (False, True):
            mode = "fanout" if fanout else "spread"
            if mode not in modes:
                continue
            chosen = [pool[0]] * n if fanout else pool[:n]
            result = await run_scenario(subscribe_on, write_on, chosen, fanout, seconds)
            one = report.get(f"{label} fanout n=1")
            if fanout and n > 1 and one is not None:
                # The write's own cost (its request, the commit, the publishing) left out:
                # what each delivery beyond the first adds to an event's server CPU.
                extra = result["server_cpu_ms_per_write"] - one["server_cpu_ms_per_write"]
                result["server_cpu_ms_per_delivery_without_write"] = round(extra / (n - 1), 3)
            report[f"{label} {mode} n={n}"] = result
            print(f"{label} {mode} n={n}: {json.dumps(result)}", flush=True)


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    url, drop = await create_database(args.postgres, args.patients)
    servers: list[Server] = []
    try:
        pool = await targets(url)
        sizes = [n for n in args.sizes if n <= len(pool)]
        print(f"{len(pool)} patients with an account and a thread; sizes {sizes}", flush=True)

        async def start(**env: str) -> Server:
            server = Server(url, work, {**BENCH_ENV, **env})
            servers.append(server)
            return await server.start()

        report: dict[str, Any] = {}
        # One instance (in-process broker) first, alone on the database: an in-process
        # broker serves one instance only, so it must not share the outbox with others.
        single = await start()
        idle = args.idle or max(sizes)  # patients' own accounts, taken again if too few
        if idle > 0:
            report["idle_memory"] = await idle_memory(
                single, [pool[i % len(pool)] for i in range(idle)]
            )
            print(json.dumps(report["idle_memory"]), flush=True)
        await scenarios(
            report, "one-instance", single, single, pool, sizes, args.seconds, args.modes
        )
        await single.stop()
        if args.redis:
            prefix = f"bench-{uuid.uuid4().hex[:6]}:"
            a = await start(REDIS_URL=args.redis, REDIS_CHANNEL_PREFIX=prefix)
            b = await start(REDIS_URL=args.redis, REDIS_CHANNEL_PREFIX=prefix)
            await scenarios(report, "two-instances", a, b, pool, sizes, args.seconds, args.modes)
        out = work / "realtime.json"
        out.write_text(json.dumps(report, indent=2))
        print(f"report: {out}")
    finally:
        for server in servers:
            await server.stop()
        await drop()


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL URL to create the benchmark database next to",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis for the two-instance runs ('' to skip them)",
    )
    parser.add_argument("--patients", type=int, default=2500, help="demo patients to load")
    parser.add_argument("--seconds", type=float, default=8.0, help="writes per scenario")
    parser.add_argument(
        "--idle",
        type=int,
        default=0,
        help="idle subscriptions for the memory figure (default: the largest size; -1: none)",
    )
    parser.add_argument(
        "--modes",
        type=lambda text: tuple(text.split(",")),
        default=("spread", "fanout"),
        help="scenarios to run, comma-separated: spread, fanout (default both)",
    )
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 100, 1000],
        help="subscriber counts, comma-separated",
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
