"""The operator's command line: `portal migrate | seed | serve | demo`."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from persistence.db import create_engine, is_sqlite, normalize_url, session_factory
from persistence.demodata import DEFAULT_SEED, Generator
from persistence.forms_catalog import publish_catalog
from persistence.migrate import upgrade
from persistence.results import publish_catalog as publish_explanations
from persistence.seed import DatasetError, database_is_empty, load_dataset
from portal import cli_realtime as realtime_cli
from portal.cli_accounts import add_parser as add_activation_code_parser
from portal.cli_audit import add_parser as add_audit_parser
from portal.cli_terms import add_parser as add_publish_terms_parser
from portal.logs import configure as configure_logging
from runtime.config import from_env
from runtime.security import hash_password


def _database_url(args: argparse.Namespace) -> str:
    return str(args.database_url or from_env().database_url)


def _ensure_sqlite_dir(url: str) -> None:
    if is_sqlite(url):
        path = normalize_url(url).split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def cmd_migrate(args: argparse.Namespace) -> int:
    url = _database_url(args)
    _ensure_sqlite_dir(url)
    upgrade(url)
    print("database is at the latest migration")
    return 0


def _now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


async def _seed(url: str, directory: str, if_empty: bool) -> int:
    engine = create_engine(url)
    try:
        if not await database_is_empty(engine):
            if if_empty:
                print("database already has data; not seeding (--if-empty)")
                return 0
            print("database already has data; seed an empty database", file=sys.stderr)
            return 1
        report = await load_dataset(engine, directory, hash_password)
        async with session_factory(engine)() as session, session.begin():
            await publish_catalog(session, datetime.now(UTC))
            await publish_explanations(session, datetime.now(UTC))
    finally:
        await engine.dispose()
    total = sum(report.counts.values())
    print(f"loaded {total:,} rows in {report.seconds:.1f}s (dataset time {report.now})")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    url = _database_url(args)
    _ensure_sqlite_dir(url)
    upgrade(url)
    try:
        if args.from_dir:
            return asyncio.run(_seed(url, args.from_dir, args.if_empty))
        with tempfile.TemporaryDirectory(prefix="portal-seed-") as tmp:
            now = args.now or _now_iso()
            Generator(patients=args.patients, seed=args.seed, now=now).write(tmp)
            return asyncio.run(_seed(url, tmp, args.if_empty))
    except DatasetError as exc:
        print(f"seed: {exc}", file=sys.stderr)
        return 2


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    settings = from_env()
    print(f"serving http://{args.host}:{args.port}/graphql (database {settings.database_url})")
    print(settings.mail.describe())
    if args.forwarded_allow_ips:
        print(f"client addresses from X-Forwarded-For of {args.forwarded_allow_ips}")
    if args.workers > 1 and not settings.redis_url:
        print(
            "warning: real time needs REDIS_URL with more than one worker (each worker's "
            "in-process broker reaches only its own subscribers)",
            file=sys.stderr,
        )
    uvicorn.run(
        "portal.asgi:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        # X-Forwarded-For / -Proto are believed only from these peers (the proxy in front):
        # the client address is what the per-address sign-in limit counts. None: uvicorn's
        # default, the local host.
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        log_config=None,
        # uvicorn[standard]'s C pieces: uvloop's event loop and the httptools HTTP parser.
        loop="uvloop" if _installed("uvloop") else "auto",
        http="httptools" if _installed("httptools") else "auto",
        access_log=False,  # the app logs each GraphQL request, with its request id
        # On SIGTERM uvicorn stops accepting, closes WebSockets with 1012 (service restart:
        # clients reconnect and resume with afterSeq) and lets requests in flight finish for
        # at most this long, then cancels them; then the app's shutdown flushes the audit
        # buffer and stops its jobs (docs/operations.md).
        timeout_graceful_shutdown=args.shutdown_grace,
        # permessage-deflate keeps a zlib compressor and decompressor per socket for its
        # whole life (most of an idle subscription's memory) to shrink events of a few
        # hundred bytes; HTTP responses are compressed separately.
        ws_per_message_deflate=False,
        # uvicorn's sans-I/O WebSocket protocol (no task per connection, unlike the legacy
        # `websockets` one), holding less per open connection (portal/ws_protocol.py).
        ws=WS_PROTOCOL,
        # A WebSocket message is bounded as an HTTP request body is (uvicorn's default is
        # 16 MiB): a bigger one closes the socket with 1009 (message too big), unparsed.
        ws_max_size=settings.http.max_body_bytes,
    )
    return 0


# portal/ws_protocol.py's PROTOCOL, named here so that other commands do not import uvicorn.
WS_PROTOCOL = "portal.ws_protocol:PortalWebSocketProtocol"


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


async def _remind(url: str) -> int:
    from domain.clock import SystemClock
    from portal.jobs import send_due_reminders
    from runtime.services import build_services

    services = build_services(replace(from_env(), database_url=url))
    try:
        return await send_due_reminders(services, SystemClock().now())
    finally:
        await services.engine.dispose()


def cmd_remind(args: argparse.Namespace) -> int:
    sent = asyncio.run(_remind(_database_url(args)))
    print(f"sent {sent} appointment reminder(s)")
    return 0


async def _reconcile(url: str) -> str:
    from domain.clock import SystemClock
    from portal.jobs import reconcile_pending_payments
    from runtime.services import build_services

    services = build_services(replace(from_env(), database_url=url))
    try:
        return str(await reconcile_pending_payments(services, SystemClock().now()))
    finally:
        await services.engine.dispose()


def cmd_reconcile_payments(args: argparse.Namespace) -> int:
    print(asyncio.run(_reconcile(_database_url(args))))
    return 0


async def _announce_due_topics(url: str) -> str:
    from domain.clock import SystemClock
    from portal.jobs import announce_due_health_topics
    from runtime.services import build_services

    services = build_services(replace(from_env(), database_url=url))
    try:
        return str(await announce_due_health_topics(services, SystemClock().now()))
    finally:
        await services.engine.dispose()


def cmd_announce_due_topics(args: argparse.Namespace) -> int:
    print(asyncio.run(_announce_due_topics(_database_url(args))))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description=__doc__)
    parser.add_argument("--database-url", help="overrides DATABASE_URL")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="load demo data (generated, or from a dataset directory)")
    seed.add_argument(
        "--patients", type=int, default=300, help="patients to generate (default 300)"
    )
    seed.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed")
    seed.add_argument("--now", help="dataset reference instant (default: now)")
    seed.add_argument("--from", dest="from_dir", help="load this dataset directory instead")
    seed.add_argument("--if-empty", action="store_true", help="do nothing if data exists")
    seed.set_defaults(func=cmd_seed)

    remind = sub.add_parser("remind", help="send due appointment reminders once (idempotent)")
    remind.set_defaults(func=cmd_remind)
    sub.add_parser(
        "reconcile-payments",
        help="settle or release payments a dead process left pending, asking the gateway",
    ).set_defaults(func=cmd_reconcile_payments)
    sub.add_parser(
        "announce-due-topics",
        help="tell health maintenance topics that became due with time, once (idempotent)",
    ).set_defaults(func=cmd_announce_due_topics)

    realtime_cli.add_parsers(sub)  # release-due, prune-outbox, demo-ehr

    add_activation_code_parser(sub)
    add_audit_parser(sub)
    add_publish_terms_parser(sub)

    serve = sub.add_parser("serve", help="serve the portal with uvicorn")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    serve.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get("FORWARDED_ALLOW_IPS") or None,
        help="comma-separated proxy addresses (or *) whose X-Forwarded-For is trusted "
        "(FORWARDED_ALLOW_IPS; default: uvicorn's, the local host)",
    )
    serve.add_argument(
        "--shutdown-grace",
        type=float,
        default=float(os.environ.get("SHUTDOWN_GRACE_SECONDS", "20")),
        help="seconds requests in flight may take to finish after SIGTERM (SHUTDOWN_GRACE_SECONDS)",
    )
    serve.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    if getattr(args, "patients", 1) < 1:
        build_parser().error("--patients must be at least 1")
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
