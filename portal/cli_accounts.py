"""`portal activation-code --patient ID`: what the clinic's desk does to let a patient in."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta

from persistence import models as m
from persistence.db import create_engine, session_factory
from persistence.lifecycle import ActivationCodeRepository
from runtime.config import from_env


async def _create(url: str, patient_id: str, ttl: timedelta) -> tuple[str, datetime] | None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            if await session.get(m.Patient, patient_id) is None:
                return None
            now = datetime.now(UTC)
            code = ActivationCodeRepository(session).create(patient_id, now, ttl)
            await session.commit()
            return code, now + ttl
    finally:
        await engine.dispose()


def cmd_activation_code(args: argparse.Namespace) -> int:
    settings = from_env()
    url = str(args.database_url or settings.database_url)
    days = args.days if args.days is not None else settings.lifecycle.activation_code_ttl.days
    if days < 1:
        print("activation-code: --days must be at least 1", file=sys.stderr)
        return 2
    made = asyncio.run(_create(url, args.patient, timedelta(days=days)))
    if made is None:
        print(f"activation-code: no patient {args.patient}", file=sys.stderr)
        return 1
    code, expires_at = made
    print(code)
    print(f"for {args.patient}, single use, valid until {expires_at:%Y-%m-%d}", file=sys.stderr)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "activation-code", help="print a new activation code for a patient (stored hashed)"
    )
    parser.add_argument("--patient", required=True, help="the patient's id, e.g. pat-0000042")
    parser.add_argument("--days", type=int, help="validity (default ACTIVATION_CODE_TTL_DAYS)")
    parser.set_defaults(func=cmd_activation_code)
