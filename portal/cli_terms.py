"""`portal publish-terms --kind TERMS_OF_USE --title T --body-file F`: publish the next
version of the terms of use or the privacy notice (domain/terms.py). Every account is told
in-app and must accept it at its next sign-in (or token refresh)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from domain.errors import DomainError
from domain.terms import DocumentKind
from persistence.db import create_engine, session_factory
from persistence.uow import UnitOfWork
from runtime.config import from_env
from usecases.terms import publish_document


async def _publish(url: str, kind: DocumentKind, title: str, body: str) -> tuple[str, int]:
    engine = create_engine(url)
    try:
        row = await publish_document(
            kind, title, body, UnitOfWork(session_factory(engine)), datetime.now(UTC)
        )
        return row.id, row.version
    finally:
        await engine.dispose()


def cmd_publish_terms(args: argparse.Namespace) -> int:
    url = str(args.database_url or from_env().database_url)
    try:
        body = Path(args.body_file).read_text(encoding="utf-8")
    except OSError as exc:
        print(f"publish-terms: cannot read --body-file: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        document_id, version = asyncio.run(_publish(url, DocumentKind(args.kind), args.title, body))
    except DomainError as exc:
        print(f"publish-terms: {exc.field}: {exc.message}", file=sys.stderr)
        return 2
    print(f"published {args.kind} version {version} ({document_id})")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "publish-terms", help="publish a new version of the terms of use or privacy notice"
    )
    parser.add_argument("--kind", required=True, choices=[k.value for k in DocumentKind])
    parser.add_argument("--title", required=True)
    parser.add_argument("--body-file", required=True, help="a UTF-8 text file")
    parser.set_defaults(func=cmd_publish_terms)
