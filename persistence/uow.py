"""The unit of work for writes (cosmicpython `service_layer/unit_of_work.py`).

    async with uow:
        ...                      # repositories share one session and one transaction
        await uow.commit()       # nothing is kept without this: leaving the block rolls back

Each `async with` opens a fresh session, so one UnitOfWork can run several short
transactions in a row (e.g. read, do slow work with no transaction open, then write).
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.accounts import AccountRepository, RefreshTokenRepository
from persistence.appointment_requests import AppointmentRequestRepository
from persistence.appointments import AppointmentRepository
from persistence.billing import BillingRepository
from persistence.devices import DeviceRepository
from persistence.ehr import EhrRepository
from persistence.lifecycle import (
    ActivationCodeRepository,
    ContactRepository,
    PasswordResetRepository,
    SignUpRepository,
    TotpRepository,
)
from persistence.messages import MessageRepository
from persistence.notifications import NotificationRepository
from persistence.outbox import OutboxRepository
from persistence.proxies import ProxyRepository
from persistence.records import RecordsRepository
from persistence.release_preferences import ReleasePreferenceRepository
from persistence.renewals import RenewalRepository
from persistence.sessions import SessionRepository
from persistence.sso import SsoRepository


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._session

    @property
    def accounts(self) -> AccountRepository:
        return AccountRepository(self.session)

    @property
    def refresh_tokens(self) -> RefreshTokenRepository:
        return RefreshTokenRepository(self.session)

    @property
    def sessions(self) -> SessionRepository:
        return SessionRepository(self.session)

    @property
    def activation_codes(self) -> ActivationCodeRepository:
        return ActivationCodeRepository(self.session)

    @property
    def signups(self) -> SignUpRepository:
        return SignUpRepository(self.session)

    @property
    def password_resets(self) -> PasswordResetRepository:
        return PasswordResetRepository(self.session)

    @property
    def totp(self) -> TotpRepository:
        return TotpRepository(self.session)

    @property
    def contact(self) -> ContactRepository:
        return ContactRepository(self.session)

    @property
    def appointments(self) -> AppointmentRepository:
        return AppointmentRepository(self.session)

    @property
    def appointment_requests(self) -> AppointmentRequestRepository:
        return AppointmentRequestRepository(self.session)

    @property
    def renewals(self) -> RenewalRepository:
        return RenewalRepository(self.session)

    @property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.session)

    @property
    def messages(self) -> MessageRepository:
        return MessageRepository(self.session)

    @property
    def notifications(self) -> NotificationRepository:
        return NotificationRepository(self.session)

    @property
    def records(self) -> RecordsRepository:
        return RecordsRepository(self.session)

    @property
    def ehr(self) -> EhrRepository:
        return EhrRepository(self.session)

    @property
    def billing(self) -> BillingRepository:
        return BillingRepository(self.session)

    @property
    def proxies(self) -> ProxyRepository:
        return ProxyRepository(self.session)

    @property
    def devices(self) -> DeviceRepository:
        return DeviceRepository(self.session)

    @property
    def sso(self) -> SsoRepository:
        return SsoRepository(self.session)

    @property
    def release_preferences(self) -> ReleasePreferenceRepository:
        return ReleasePreferenceRepository(self.session)

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already in use")
        self._session = self._sessions()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self.session, None
        try:
            await session.rollback()  # a no-op after commit
        finally:
            await session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
