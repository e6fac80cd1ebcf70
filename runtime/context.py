"""The per-request context: who is asking, fresh loaders, and the request's audit trail;
and the WebSocket connection's context, whose events each begin afresh (`begin_event`)."""

from __future__ import annotations

import asyncio
from dataclasses import InitVar, dataclass, field, fields
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from starlette.requests import Request
from starlette.websockets import WebSocket

from domain import access
from domain.access import AccessDenied, PatientContext, PatientGrant, Principal
from domain.scopes import RecordArea
from domain.terms import TermsAcceptanceRequired
from loaders import Loaders
from persistence.audit import REFUSED, AuditEntry
from runtime.realtime.sharing import Gathering, View
from runtime.services import Services

ANONYMOUS = "anonymous"  # the account and role of an account action nobody signed in made
UNKNOWN_RELATIONSHIP = "unknown"  # the role of a refused read: there was no grant to name it
# Column sizes of audit_events: an id a client made up is cut, never a failed audit write.
PATIENT_ID_LENGTH, OBJECT_ID_LENGTH, OBJECT_TYPES_LENGTH = 40, 200, 500
# The operation's name is the client's (any GraphQL name), the actor's name an account's.
OPERATION_LENGTH = ACTOR_NAME_LENGTH = 200


class Refusal(NamedTuple):
    account_id: str
    patient_id: str  # "" when not known (node(id) of an unknown object)
    object_id: str  # "Type:id" asked for through node(id), else ""
    area: str
    reason: str


# (account id, patient id or "" for an account action, acting as, action) -> object types,
# and refusals -> GraphQL paths: a snapshot of a context's audit (SocketContext.audit_notes)
AuditNotes = tuple[
    tuple[tuple[tuple[str, str, str, str], frozenset[str]], ...],
    tuple[tuple[Refusal, frozenset[str]], ...],
]


def _name_refusal(denied: AccessDenied, patient_id: str, area: RecordArea | None) -> None:
    """Name the patient (and area) a refused access check was about, for the audit only.
    (A try/except at each check, not a context manager: checks run at every patient-scoped
    field, and a generator-based `with` costs more than the check itself.)"""
    if denied.patient_id is None:
        denied.patient_id = patient_id
    if denied.asked_area is None:
        denied.asked_area = area


class Unauthenticated(Exception):
    """No valid access token: signed out, forged, expired or for another audience."""

    def __init__(self, message: str = "Sign in to continue.") -> None:
        super().__init__(message)


@dataclass
class Context:
    services: Services
    request: Request | WebSocket | None
    request_id: str
    now: datetime
    principal: Principal | None = None
    auth_error: str | None = None  # a token was sent but refused
    actor_name: str = ""
    failure: Exception | None = None  # authentication could not run; re-raised on first use
    terms_pending: bool = False  # TERMS_ACCEPTANCE_REQUIRED for all but the legal documents
    session_id: str | None = None  # the session of the access token (docs/sessions.md)
    loaders: Loaders = field(init=False)
    # The policy's answers for the principal of `_decided_for`: a field reads the same
    # (patient, area) many times in one operation, and the answer is a pure function of
    # the principal (its grants, its `now`), the patient and the area.
    _decisions: dict[tuple[str, RecordArea | None], PatientGrant | AccessDenied] = field(
        default_factory=dict, init=False, repr=False
    )
    _decided_for: Principal | None = field(default=None, init=False, repr=False)
    # The grants `access` gave the principal of `_granted_for` in this operation, by
    # (patient, area, object type): each was decided and its read noted in the audit when
    # first given, so that a field asking again reads it back (a dashboard's scoped fields
    # ask the same few dozen times). An HTTP operation's context ends with its audit; a
    # socket's empties them whenever its audit is taken (`take_audit`) and between events.
    _granted: dict[tuple[str, RecordArea, str], PatientGrant] = field(
        default_factory=dict, init=False, repr=False
    )
    _granted_for: Principal | None = field(default=None, init=False, repr=False)
    # (account id, patient id or "" for an account action, acting as, action) -> object types
    _audit: dict[tuple[str, str, str, str], set[str]] = field(default_factory=dict)
    _audit_accounts: list[str] = field(default_factory=list)  # see `audit_account`
    _checked_credential: bool = False  # without a request (tests): see `claim_credential_check`
    _refused: dict[Refusal, set[str]] = field(default_factory=dict)  # -> GraphQL paths
    # The request's loaders when the caller made them (HTTP: on the connection it
    # authenticated on); else fresh ones, each batch on a short session of its own.
    given_loaders: InitVar[Loaders | None] = None

    def __post_init__(self, given_loaders: Loaders | None) -> None:
        self.loaders = Loaders(self.services) if given_loaders is None else given_loaders

    # -- who is asking -------------------------------------------------------------------
    @property
    def signed_out(self) -> bool:
        """No token at all (not a refused one, not a failed check): viewer is simply null."""
        return self.principal is None and self.auth_error is None and self.failure is None

    def require_principal(self) -> Principal:
        """The signed-in principal; every read and write passes here, so an account with
        legal documents to accept is refused here (TERMS_ACCEPTANCE_REQUIRED)."""
        principal = self.require_signed_in()
        if self.terms_pending:
            raise TermsAcceptanceRequired()
        return principal

    def require_signed_in(self) -> Principal:
        """Signed in, whether or not documents are pending: reading and accepting them."""
        if self.failure is not None:
            raise self.failure
        if self.principal is None:
            raise Unauthenticated(self.auth_error or "Sign in to continue.")
        return self.principal

    def signed_in(
        self, principal: Principal, actor_name: str, session_id: str, terms_pending: bool = False
    ) -> None:
        """signIn: the rest of its own response (its `viewer`) answers for the new account."""
        self.principal, self.actor_name, self.session_id = principal, actor_name, session_id
        self.terms_pending = terms_pending
        self.auth_error = self.failure = None
        self.__dict__.pop("patient_contexts", None)  # drop a cached answer for the old one

    @cached_property
    def patient_contexts(self) -> list[PatientContext]:
        return access.patient_contexts(self.require_principal(), self.services.settings.ages)

    def patient_context(self, patient_id: str) -> PatientContext:
        return access.patient_context(
            self.require_principal(), patient_id, self.services.settings.ages
        )

    def claim_credential_check(self) -> bool:
        """Whether this mutation may check a password or code: only the first of the HTTP
        request may, whatever the aliases, fragments or operations of a batch (each operation
        of a batch has its own context; the request's state is shared)."""
        state = self.request.state if self.request is not None else None
        claimed = bool(getattr(state, "checked_credential", False)) or self._checked_credential
        if state is not None:
            state.checked_credential = True
        self._checked_credential = True
        return not claimed

    # -- the access checks: every read of a patient's record passes one of these --------
    def access(self, patient_id: str, area: RecordArea, object_type: str) -> PatientGrant:
        key = (patient_id, area, object_type)
        principal = self.principal
        # (what `require_principal` checks, in its order: it would return this principal)
        if self._granted_for is principal and self.failure is None and not self.terms_pending:
            grant = self._granted.get(key)
            if grant is not None:
                return grant  # decided, and its read noted, when first given
        try:
            grant = self._decided(patient_id, area)
        except AccessDenied as denied:
            _name_refusal(denied, patient_id, area)
            raise
        self.audit_read(grant, object_type)
        if self._granted_for is not principal:
            self._granted, self._granted_for = {}, principal
        self._granted[key] = grant
        return grant

    def demographics(self, patient_id: str) -> PatientGrant:
        try:
            grant = self._decided(patient_id, None)
        except AccessDenied as denied:
            _name_refusal(denied, patient_id, None)
            raise
        self.audit_read(grant, "Patient")
        return grant

    def _decided(self, patient_id: str, area: RecordArea | None) -> PatientGrant:
        """`access_patient` (an area) or `access_demographics` (None), asked once per
        operation and principal; a refusal is raised afresh at each field that asks."""
        principal = self.require_principal()
        if principal is not self._decided_for:
            self._decisions, self._decided_for = {}, principal
        key = (patient_id, area)
        decision = self._decisions.get(key)
        if decision is None:
            ages = self.services.settings.ages
            try:
                decision = (
                    access.access_demographics(principal, patient_id, ages)
                    if area is None
                    else access.access_patient(principal, patient_id, area, ages)
                )
            except AccessDenied as denied:
                decision = denied
            self._decisions[key] = decision
        if isinstance(decision, AccessDenied):
            raise AccessDenied(decision.reason, decision.area)
        return decision

    def own_record(self, patient_id: str, object_type: str) -> PatientGrant:
        try:
            grant = access.access_own_record(self.require_principal(), patient_id)
        except AccessDenied as denied:
            _name_refusal(denied, patient_id, None)
            raise
        self.audit_read(grant, object_type)
        return grant

    def act(self, patient_id: str, area: RecordArea, object_type: str) -> PatientGrant:
        """A write to a patient's record: the same policy as a read of `area`, audited as a
        write. Raises AccessDenied like the reads (the mutation answers FORBIDDEN)."""
        grant = access.access_patient(
            self.require_principal(), patient_id, area, self.services.settings.ages
        )
        self.audit_write(grant, object_type)
        return grant

    def act_for_self(self, patient_id: str, object_type: str) -> PatientGrant:
        """A write only the patient may make (proxy grants, release preferences, readings of
        their own): a proxy gets FORBIDDEN whatever its scopes."""
        grant = access.access_own_record(self.require_principal(), patient_id)
        self.audit_write(grant, object_type)
        return grant

    def records_release(self, patient_id: str, object_type: str, *, write: bool) -> PatientGrant:
        """Records releases: the patient, or a parent/guardian of a child (domain.access)."""
        grant = access.access_records_release(
            self.require_principal(), patient_id, self.services.settings.ages
        )
        (self.audit_write if write else self.audit_read)(grant, object_type)
        return grant

    def readable(self, area: RecordArea) -> list[PatientGrant]:
        """Grants for every patient whose `area` the viewer may read (family inbox, feeds)."""
        grants = []
        for context in self.patient_contexts:
            if context.area(area).allowed:
                grants.append(self.access(context.patient_id, area, area.name.title()))
        return grants

    # -- audit ---------------------------------------------------------------------------
    def audit_read(self, grant: PatientGrant, object_type: str) -> None:
        self._note(
            grant.account_id, grant.patient_id, grant.relationship.value, "read", object_type
        )

    def audit_write(self, grant: PatientGrant, object_type: str) -> None:
        self._note(
            grant.account_id, grant.patient_id, grant.relationship.value, "write", object_type
        )

    def audit_account(self, account_id: str) -> None:
        """Name the account the running account-level mutation concerns, where that is not
        the signed-in one: the account a sign-in, a refresh token, a reset or a sign-up
        matched. Only the audit learns it; the answer must not differ."""
        if account_id not in self._audit_accounts:
            self._audit_accounts.append(account_id)

    def audit_account_action(self, name: str, done: bool) -> None:
        """An account-level mutation `name` ran (no patient's record: no patient_id): a
        "write" if `done`, else an "attempt" (refused). It concerns the accounts named with
        `audit_account`, else the signed-in account, else no known one ("anonymous")."""
        signed_in = self.principal.account_id if self.principal is not None else None
        accounts, self._audit_accounts = self._audit_accounts or [signed_in or ANONYMOUS], []
        action = "write" if done else "attempt"
        for account_id in accounts:
            acting_as = "self" if account_id == signed_in else ANONYMOUS
            self._note(account_id, "", acting_as, action, name)

    def audit_refused(self, denied: AccessDenied, path: str) -> None:
        """A read the access policy refused (FORBIDDEN): for the operators' view of probing
        (docs/audit.md), not the patient's access log, since nothing was disclosed."""
        account_id = self.principal.account_id if self.principal is not None else ANONYMOUS
        key = Refusal(
            account_id,
            (denied.patient_id or "")[:PATIENT_ID_LENGTH],
            (denied.object_id or "")[:OBJECT_ID_LENGTH],
            area.name if (area := denied.area or denied.asked_area) is not None else "",
            denied.reason.value,
        )
        self._refused.setdefault(key, set()).add(path)

    def _note(
        self, account_id: str, patient_id: str, acting_as: str, action: str, object_type: str
    ) -> None:
        self._audit.setdefault((account_id, patient_id, acting_as, action), set()).add(object_type)

    def audit_entries(self, operation: str) -> list[AuditEntry]:
        client = self.request.client if self.request else None  # a property: built per call
        address = client.host if client else None
        operation = operation[:OPERATION_LENGTH]
        actor_name = self.actor_name[:ACTOR_NAME_LENGTH]
        refused = [
            AuditEntry(
                at=self.now,
                account_id=r.account_id,
                actor_name=actor_name,
                patient_id=r.patient_id or None,
                acting_as=UNKNOWN_RELATIONSHIP,
                action=REFUSED,
                operation=operation,
                object_types=",".join(sorted(paths))[:OBJECT_TYPES_LENGTH],
                request_id=self.request_id,
                client_address=address,
                area=r.area or None,
                reason=r.reason,
                object_id=r.object_id or None,
            )
            for r, paths in sorted(self._refused.items())
        ]
        return refused + [
            AuditEntry(
                at=self.now,
                account_id=account_id,
                actor_name="" if acting_as == ANONYMOUS else actor_name,
                patient_id=patient_id or None,
                acting_as=acting_as,
                action=action,
                operation=operation,
                object_types=",".join(sorted(types))[:OBJECT_TYPES_LENGTH],
                request_id=self.request_id,
                client_address=address,
            )
            for (account_id, patient_id, acting_as, action), types in sorted(self._audit.items())
        ]


@dataclass(slots=True)
class SocketSession:
    """Who opened the connection, in which session, and until when their token is good."""

    account_id: str
    session_id: str | None  # None: a token minted without a session (runtime/security.py)
    token_expires_at: datetime
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class SocketContext(Context):
    connection_params: dict[str, object] | None = None
    socket: SocketSession | None = None
    event_operation: str | None = None  # the subscription whose event is being executed
    # When this process learnt of the event's commit (perf_counter; 0: none or unknown).
    event_committed: float = field(default=0.0, init=False, repr=False)
    # The event's view while it is executed (runtime/realtime/sharing.py), else None.
    event_view: View | None = field(default=None, init=False, repr=False)
    # The event's gathering this delivery has joined and not yet left (sharing.py).
    _gathering: Gathering | None = field(default=None, init=False, repr=False)

    @classmethod
    def of(cls, context: Context) -> SocketContext:
        return cls(**{f.name: getattr(context, f.name) for f in fields(Context) if f.init})

    def __post_init__(self, given_loaders: Loaders | None) -> None:
        """No loaders while idle: each event brings its view's (`begin_event`), and a read
        outside an event gets fresh ones when it first asks (`__getattr__`)."""
        if given_loaders is not None:
            self.loaders = given_loaders

    if not TYPE_CHECKING:  # `loaders` stays typed as Context's field

        def __getattr__(self, name: str) -> object:
            if name != "loaders":
                raise AttributeError(name)
            loaders = self.loaders = Loaders(self.services)
            return loaders

    def begin_event(self, view: View, operation: str, committed: float = 0.0) -> None:
        """Everything an event's execution reads is as of now, for the principal as of now,
        through loaders of that principal at that instant (shared by the account's other
        subscriptions delivering the same event: runtime/realtime/sharing.py)."""
        self.principal, self.now, self.event_operation = view.principal, view.now, operation
        self.event_committed = committed
        self.auth_error = self.failure = None
        self.loaders, self.event_view = view.loaders, view
        self.__dict__.pop("patient_contexts", None)
        # The policy's answers (`Context._decided`) are a pure function of the principal,
        # the patient and the area: worked out once for the subscriptions sharing the view.
        self._decisions = view.shared.setdefault("decisions", {})
        self._decided_for = view.principal
        self._granted, self._granted_for = {}, None
        self.leave_gathering()
        self._gathering = view.gathering
        view.gathering.join()

    def leave_gathering(self) -> Gathering | None:
        """This delivery's audit is handed over (or it ends unsent): what is left is to wait
        for the rest of its gathering, returned (None: nothing to wait for)."""
        gathering, self._gathering = self._gathering, None
        if gathering is None:
            return None
        gathering.leave()
        return None if gathering.all_in() is None else gathering

    async def write_event_audit(self) -> None:
        """The event's audit, written durably before it is sent: with the rest of its
        gathering (one INSERT for the deliveries of one event to one viewer)."""
        entries = self.take_event_audit()
        services = self.services
        gathered = self.leave_gathering()
        # PostgreSQL: an autocommit connection, so one round trip; durable when it returns.
        await services.audit.write_together(entries, services.read_sessions, gathered)

    def end_event(self) -> None:
        """Between events the connection keeps nothing of the last one's reads."""
        self.leave_gathering()
        self.__dict__.pop("loaders", None)  # the view's
        self.event_view, self.event_committed = None, 0.0
        self._decisions, self._decided_for = {}, None
        self._granted, self._granted_for = {}, None

    def audit_notes(self) -> AuditNotes:
        """What the audit has recorded so far, to record again for another subscription
        that delivers the same thing (`add_audit_notes`)."""
        return (
            tuple((key, frozenset(types)) for key, types in self._audit.items()),
            tuple((key, frozenset(paths)) for key, paths in self._refused.items()),
        )

    def add_audit_notes(self, notes: AuditNotes) -> None:
        audit, refused = notes
        for key, types in audit:
            self._audit.setdefault(key, set()).update(types)
        for refusal, paths in refused:
            self._refused.setdefault(refusal, set()).update(paths)

    def take_audit(self, operation: str) -> list[AuditEntry]:
        if not self._audit and not self._refused:
            return []  # e.g. a delivered event's, once its rows are written
        entries = self.audit_entries(operation)
        self._audit.clear()
        self._refused.clear()
        self._granted.clear()  # their reads are in `entries`: the next ones note theirs again
        return entries

    def take_event_audit(self) -> list[AuditEntry]:
        """The audit of the event being executed, so far (none before the first event)."""
        return [] if self.event_operation is None else self.take_audit(self.event_operation)
