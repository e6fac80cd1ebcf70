"""Per-request DataLoaders. Built in `get_context` (or per subscription event), never shared."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from loaders.appointments import AppointmentPageByPatientLoader
from loaders.people import (
    AccountByIdLoader,
    DepartmentByIdLoader,
    PatientByGrantLoader,
    ProviderByIdLoader,
)

if TYPE_CHECKING:
    from portal.services import Services


class Loaders:
    """One instance per request; each loader is made on first use."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._sessions = services.sessions

    @cached_property
    def patient(self) -> PatientByGrantLoader:
        return PatientByGrantLoader(self._sessions)

    @cached_property
    def account(self) -> AccountByIdLoader:
        return AccountByIdLoader(self._sessions)

    @cached_property
    def provider(self) -> ProviderByIdLoader:
        return ProviderByIdLoader(self._sessions)

    @cached_property
    def department(self) -> DepartmentByIdLoader:
        return DepartmentByIdLoader(self._sessions)

    @cached_property
    def appointment_pages(self) -> AppointmentPageByPatientLoader:
        return AppointmentPageByPatientLoader(self._sessions, self._services.clock)
