"""Per-request DataLoaders. Built in `get_context` (or per subscription event), never shared."""

from __future__ import annotations

from functools import cached_property
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import Clock
from loaders.appointment_requests import AppointmentRequestsByPatientLoader
from loaders.appointments import AppointmentPageByPatientLoader
from loaders.attachments import (
    AttachmentByIdLoader,
    AttachmentsByMessageLoader,
    OwnerByAttachmentLoader,
)
from loaders.base import FairGate, RequestSession, SessionSource
from loaders.billing import (
    AssistanceRequestByStatementLoader,
    LineItemsByStatementLoader,
    OpenTotalsByGuarantorLoader,
    PaymentPlanRequestByStatementLoader,
    PaymentsByStatementLoader,
    StatementPageByGuarantorLoader,
)
from loaders.coverages import CoveragesByPatientLoader, InsuranceCardsByPatientLoader
from loaders.devices import DevicesByAccountLoader, IdentitiesByAccountLoader
from loaders.health_maintenance import TopicsByPatientLoader
from loaders.messages import (
    InboxPageByGrantsLoader,
    MessageByIdLoader,
    MessagePageByThreadLoader,
    MessageThreadPageByPatientLoader,
    OwnerByMessageLoader,
    ReadThroughByThreadLoader,
    UnreadCountByPatientLoader,
    UnreadCountByThreadLoader,
)
from loaders.notes import (
    AppointmentByIdLoader,
    HiddenNoteCountByPatientLoader,
    NoteByIdLoader,
    NotePageByPatientLoader,
    SummaryByAppointmentLoader,
)
from loaders.notifications import (
    NotificationByIdLoader,
    NotificationPageByAccountLoader,
    NotificationPreferencesByAccountLoader,
)
from loaders.owned import OwnedRowLoader, OwnerOfLoader, ThreadByIdLoader
from loaders.people import (
    AccountByIdLoader,
    DepartmentByIdLoader,
    PatientByGrantLoader,
    ProviderByIdLoader,
)
from loaders.questionnaires import FormsByAppointmentLoader
from loaders.records import HealthReadingPageByPatientLoader, ReleaseRequestsOfPatientLoader
from loaders.renewals import RenewalsByPatientLoader
from loaders.results import (
    ComponentsByResultLoader,
    ExplanationByCodeLoader,
    HoldKindsByPatientLoader,
    ResultByIdLoader,
    ResultPageByPatientLoader,
    ThreadsByResultLoader,
    TrendByCodeLoader,
)
from loaders.sessions import SessionsByAccountLoader
from loaders.summary import (
    AccessLogPageLoader,
    AllergiesByPatientLoader,
    CareTeamByPatientLoader,
    ImmunizationsByPatientLoader,
    MedicationsByPatientLoader,
    ProblemsByPatientLoader,
    ProxyGrantsOfPatientLoader,
)


class Sources(Protocol):
    """What loaders read through and with (runtime.services.Services is one)."""

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...
    @property
    def read_sessions(self) -> async_sessionmaker[AsyncSession]: ...
    @property
    def request_gate(self) -> FairGate: ...
    @property
    def clock(self) -> Clock: ...


class Loaders:
    """One instance per request; each loader is made on first use."""

    def __init__(
        self,
        services: Sources,
        *,
        per_request: bool = False,
        session: RequestSession | None = None,
        reads: bool = False,
    ) -> None:
        """`per_request`: every batch shares one session (and connection) until `close()`
        (HTTP requests on PostgreSQL); otherwise each batch has a short session of its own
        (SQLite, subscription events). `session`: that shared session, already opened (the
        one the request authenticated on). `reads` (subscription events, which only read):
        those short sessions are the reading engine's, in autocommit on PostgreSQL, so a
        batch is its one statement, without a BEGIN and a ROLLBACK round trip around it."""
        self._services = services
        if session is not None:
            self.session = session
        elif per_request:
            self.session = RequestSession(
                services.read_sessions, shared=True, gate=services.request_gate
            )
        else:
            sessions = services.read_sessions if reads else services.sessions
            self.session = RequestSession(sessions, shared=False)
        self._sessions: SessionSource = self.session

    async def close(self) -> None:
        """When every batch the request started has run: give the connection back."""
        await self.session.close()

    async def for_writes(self) -> None:
        """The operation writes: its unit of work takes a connection of its own (see
        `RequestSession.unshare`), and rows read before it began are not served again."""
        await self.session.unshare()
        self.patient.known.clear()

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
        return AppointmentPageByPatientLoader(
            self._sessions, self._services.clock, self.provider, self.department
        )

    @cached_property
    def appointment(self) -> AppointmentByIdLoader:
        return AppointmentByIdLoader(self._sessions)

    @cached_property
    def appointment_requests(self) -> AppointmentRequestsByPatientLoader:
        return AppointmentRequestsByPatientLoader(self._sessions)

    @cached_property
    def coverages(self) -> CoveragesByPatientLoader:
        return CoveragesByPatientLoader(self._sessions)

    @cached_property
    def insurance_cards(self) -> InsuranceCardsByPatientLoader:
        return InsuranceCardsByPatientLoader(self._sessions)

    @cached_property
    def renewals(self) -> RenewalsByPatientLoader:
        return RenewalsByPatientLoader(self._sessions)

    @cached_property
    def result_pages(self) -> ResultPageByPatientLoader:
        return ResultPageByPatientLoader(self._sessions, self.result_components, self.result_holds)

    @cached_property
    def result_components(self) -> ComponentsByResultLoader:
        return ComponentsByResultLoader(self._sessions)

    @cached_property
    def result_holds(self) -> HoldKindsByPatientLoader:
        return HoldKindsByPatientLoader(self._sessions)

    @cached_property
    def result_trend(self) -> TrendByCodeLoader:
        return TrendByCodeLoader(self._sessions)

    # -- messages and notifications -------------------------------------------------------
    @cached_property
    def message_thread_pages(self) -> MessageThreadPageByPatientLoader:
        return MessageThreadPageByPatientLoader(
            self._sessions, self.read_through, self.message_pages
        )

    @cached_property
    def inbox_pages(self) -> InboxPageByGrantsLoader:
        return InboxPageByGrantsLoader(self._sessions)

    @cached_property
    def message_pages(self) -> MessagePageByThreadLoader:
        return MessagePageByThreadLoader(self._sessions)

    @cached_property
    def message(self) -> MessageByIdLoader:
        loader = MessageByIdLoader(self._sessions)
        loader.threads = self.thread  # read with their messages
        return loader

    @cached_property
    def message_owner(self) -> OwnerByMessageLoader:
        return OwnerByMessageLoader(self._sessions)

    @cached_property
    def thread(self) -> ThreadByIdLoader:
        return ThreadByIdLoader(self._sessions)

    @cached_property
    def owner_of(self) -> OwnerOfLoader:
        return OwnerOfLoader(self._sessions)

    @cached_property
    def owned_row(self) -> OwnedRowLoader:
        return OwnedRowLoader(self._sessions)

    @cached_property
    def unread_by_thread(self) -> UnreadCountByThreadLoader:
        return UnreadCountByThreadLoader(self._sessions)

    @cached_property
    def unread_by_patient(self) -> UnreadCountByPatientLoader:
        return UnreadCountByPatientLoader(self._sessions)

    @cached_property
    def read_through(self) -> ReadThroughByThreadLoader:
        return ReadThroughByThreadLoader(self._sessions)

    @cached_property
    def message_attachments(self) -> AttachmentsByMessageLoader:
        return AttachmentsByMessageLoader(self._sessions)

    @cached_property
    def attachment_owner(self) -> OwnerByAttachmentLoader:
        return OwnerByAttachmentLoader(self._sessions)

    @cached_property
    def attachment(self) -> AttachmentByIdLoader:
        return AttachmentByIdLoader(self._sessions)

    @cached_property
    def notification_pages(self) -> NotificationPageByAccountLoader:
        return NotificationPageByAccountLoader(self._sessions)

    @cached_property
    def notification(self) -> NotificationByIdLoader:
        return NotificationByIdLoader(self._sessions)

    @cached_property
    def notification_preferences(self) -> NotificationPreferencesByAccountLoader:
        return NotificationPreferencesByAccountLoader(self._sessions)

    @cached_property
    def sessions(self) -> SessionsByAccountLoader:
        return SessionsByAccountLoader(self._sessions)

    @cached_property
    def devices(self) -> DevicesByAccountLoader:
        return DevicesByAccountLoader(self._sessions)

    @cached_property
    def linked_identities(self) -> IdentitiesByAccountLoader:
        return IdentitiesByAccountLoader(self._sessions)

    # -- health summary, care team, billing, self-only pages ------------------------------
    @cached_property
    def medications(self) -> MedicationsByPatientLoader:
        return MedicationsByPatientLoader(self._sessions)

    @cached_property
    def allergies(self) -> AllergiesByPatientLoader:
        return AllergiesByPatientLoader(self._sessions)

    @cached_property
    def problems(self) -> ProblemsByPatientLoader:
        return ProblemsByPatientLoader(self._sessions)

    @cached_property
    def immunizations(self) -> ImmunizationsByPatientLoader:
        return ImmunizationsByPatientLoader(self._sessions)

    @cached_property
    def care_team(self) -> CareTeamByPatientLoader:
        return CareTeamByPatientLoader(self._sessions)

    @cached_property
    def statement_pages(self) -> StatementPageByGuarantorLoader:
        return StatementPageByGuarantorLoader(self._sessions, self.statement_lines)

    @cached_property
    def statement_lines(self) -> LineItemsByStatementLoader:
        return LineItemsByStatementLoader(self._sessions)

    @cached_property
    def statement_payments(self) -> PaymentsByStatementLoader:
        return PaymentsByStatementLoader(self._sessions)

    @cached_property
    def open_statement_totals(self) -> OpenTotalsByGuarantorLoader:
        return OpenTotalsByGuarantorLoader(self._sessions)

    @cached_property
    def payment_plan_request(self) -> PaymentPlanRequestByStatementLoader:
        return PaymentPlanRequestByStatementLoader(self._sessions)

    @cached_property
    def assistance_request(self) -> AssistanceRequestByStatementLoader:
        return AssistanceRequestByStatementLoader(self._sessions)

    @cached_property
    def proxy_grants_given(self) -> ProxyGrantsOfPatientLoader:
        return ProxyGrantsOfPatientLoader(self._sessions)

    @cached_property
    def access_log(self) -> AccessLogPageLoader:
        return AccessLogPageLoader(self._sessions)

    # -- health readings and records release requests -------------------------------------
    @cached_property
    def health_reading_pages(self) -> HealthReadingPageByPatientLoader:
        return HealthReadingPageByPatientLoader(self._sessions)

    @cached_property
    def release_requests(self) -> ReleaseRequestsOfPatientLoader:
        return ReleaseRequestsOfPatientLoader(self._sessions)

    # -- clinical notes (loaders/notes.py) ------------------------------------------------
    @cached_property
    def note_pages(self) -> NotePageByPatientLoader:
        return NotePageByPatientLoader(self._sessions)

    @cached_property
    def note(self) -> NoteByIdLoader:
        return NoteByIdLoader(self._sessions)

    @cached_property
    def visit_summary(self) -> SummaryByAppointmentLoader:
        return SummaryByAppointmentLoader(self._sessions)

    @cached_property
    def hidden_note_count(self) -> HiddenNoteCountByPatientLoader:
        return HiddenNoteCountByPatientLoader(self._sessions)

    # -- pre-visit questionnaires and consents (loaders/questionnaires.py) ----------------
    @cached_property
    def appointment_forms(self) -> FormsByAppointmentLoader:
        return FormsByAppointmentLoader(self._sessions)

    @cached_property
    def explanation(self) -> ExplanationByCodeLoader:
        return ExplanationByCodeLoader(self._sessions)

    # -- "ask about this result" (loaders/results.py) ----------------------------------
    @cached_property
    def result_by_id(self) -> ResultByIdLoader:
        return ResultByIdLoader(self._sessions)

    @cached_property
    def threads_by_result(self) -> ThreadsByResultLoader:
        return ThreadsByResultLoader(self._sessions)

    @cached_property
    def health_maintenance(self) -> TopicsByPatientLoader:
        return TopicsByPatientLoader(self._sessions)
