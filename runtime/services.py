"""What lives as long as the process: settings, clock, database, audit writer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.billing import PaymentGateway
from domain.clock import Clock, SystemClock
from loaders.base import FairGate
from persistence.audit import AuditWriter
from persistence.db import create_engine, reading_engine, session_factory
from persistence.deliveries import DeliveryDispatcher
from persistence.files import FileStore
from persistence.mail import MailSender, build_mail_sender
from runtime.config import Settings
from runtime.oidc import SingleSignOn
from runtime.payments import SandboxGateway
from runtime.push import DevicePushSender, build_push_sender
from runtime.realtime.runtime import Realtime
from runtime.security import TokenIssuer


@dataclass
class Services:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # Sessions that read in autocommit on PostgreSQL (no BEGIN/ROLLBACK per request; each
    # statement sees what was committed before it, as READ COMMITTED does): the request's
    # own connection (loaders.base.RequestSession). The same pool as `sessions`.
    read_sessions: async_sessionmaker[AsyncSession]
    tokens: TokenIssuer
    audit: AuditWriter
    mail: MailSender
    # The sandbox unless a deployment plugs in a real provider (domain.billing.PaymentGateway).
    gateway: PaymentGateway = field(default_factory=SandboxGateway)
    # Uploaded files (persistence/files.py) and the SMS/push outbox dispatcher, with the
    # logging senders unless a deployment plugs in real ones (persistence/deliveries.py).
    files: FileStore = field(init=False)
    deliveries: DeliveryDispatcher = field(init=False)
    # Web Push, APNs and FCM senders as configured (portal/push, docs/push.md).
    push: DevicePushSender = field(init=False)
    # One OpenID Connect client per configured provider (runtime/oidc.py, docs/sso.md).
    sso: SingleSignOn = field(init=False)
    # Broker, outbox publisher and open WebSockets (runtime/realtime), started by the app.
    realtime: Realtime = field(init=False)

    # HTTP requests holding a pooled connection at once, served in order (loaders.base).
    request_gate: FairGate = field(init=False)

    def __post_init__(self) -> None:
        pool_size = getattr(self.engine.pool, "size", lambda: 10)()
        self.request_gate = FairGate(max(1, pool_size - 2))  # 2 left for writes and jobs
        self.files = FileStore(self.settings.attachments_dir)
        self.push = build_push_sender(self.settings.push)
        self.sso = SingleSignOn(self.settings.sso)
        self.deliveries = DeliveryDispatcher(self.sessions, self.clock, push=self.push)
        self.realtime = Realtime(
            self.settings.realtime, self.settings.redis_url, self.sessions, self.clock
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session


def build_services(
    settings: Settings, clock: Clock | None = None, engine: AsyncEngine | None = None
) -> Services:
    engine = engine or create_engine(settings.database_url)
    sessions = session_factory(engine)
    read_sessions = session_factory(reading_engine(engine))
    clock = clock or SystemClock()
    return Services(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=sessions,
        read_sessions=read_sessions,
        tokens=TokenIssuer(
            settings.jwt_secret,
            settings.jwt_issuer,
            settings.jwt_audience,
            settings.access_token_ttl,
        ),
        audit=AuditWriter(sessions, settings.audit_flush_seconds),
        mail=build_mail_sender(sessions, clock, settings.mail),
        gateway=SandboxGateway(settings.sandbox_gateway_ledger),
    )
