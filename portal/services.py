"""What lives as long as the process: settings, clock, database, audit writer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.clock import Clock, SystemClock
from persistence.audit import AuditWriter
from persistence.db import create_engine, session_factory
from portal.config import Settings
from portal.security import TokenIssuer


@dataclass
class Services:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tokens: TokenIssuer
    audit: AuditWriter

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session


def build_services(
    settings: Settings, clock: Clock | None = None, engine: AsyncEngine | None = None
) -> Services:
    engine = engine or create_engine(settings.database_url)
    sessions = session_factory(engine)
    return Services(
        settings=settings,
        clock=clock or SystemClock(),
        engine=engine,
        sessions=sessions,
        tokens=TokenIssuer(
            settings.jwt_secret,
            settings.jwt_issuer,
            settings.jwt_audience,
            settings.access_token_ttl,
        ),
        audit=AuditWriter(sessions, settings.audit_flush_seconds),
    )
