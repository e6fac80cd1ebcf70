"""SQLAlchemy 2 tables. Ids are the dataset's stable strings (`pat-0000001`); new rows get
`<prefix>-<uuid hex>` from `new_id`. Implicit lazy loading is off (`lazy="raise"`)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, query_expression


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        # asyncpg hands timestamptz back as aware UTC datetimes already: nothing to do per
        # value (a Python call per timestamp of every row read, ~10% of a page's read path).
        if dialect.driver == "asyncpg":
            return None
        return super().result_processor(dialect, coltype)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


ID = String(40)


class Department(Base):
    __tablename__ = "departments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    facility: Mapped[str] = mapped_column(String(200))
    specialty: Mapped[str] = mapped_column(String(100))
    address: Mapped[dict[str, Any]]
    phone: Mapped[str] = mapped_column(String(40))
    timezone: Mapped[str] = mapped_column(String(64))


class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    credentials: Mapped[str] = mapped_column(String(10))
    display_name: Mapped[str] = mapped_column(String(200), index=True)
    specialty: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"))
    accepts_new_patients: Mapped[bool] = mapped_column(Boolean)


class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    mrn: Mapped[str] = mapped_column(String(20), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    preferred_name: Mapped[str | None] = mapped_column(String(100))
    pronouns: Mapped[str | None] = mapped_column(String(40))  # migration 0013
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[dict[str, Any] | None]
    pcp_provider_id: Mapped[str | None] = mapped_column(ForeignKey("providers.id"))


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    # Single sign-on only: password sign-in refused (migration 0014, docs/sso.md).
    sso_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class ProxyGrant(Base):
    __tablename__ = "proxy_grants"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    # None while an invitation is pending: the grant is bound to whoever accepts it.
    proxy_account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    relationship: Mapped[str] = mapped_column(String(20))
    scopes: Mapped[list[str]]
    status: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    invitee_email: Mapped[str | None] = mapped_column(String(320))  # grants given by invitation
    revoked_at: Mapped[datetime | None]
    # Sensitive categories of clinical notes the patient opened to this proxy (migration 0012).
    opened_note_categories: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default="[]"
    )


class AccountSession(Base):
    """One sign-in on one device (docs/sessions.md). Its refresh tokens are one family
    (`refresh_tokens.family_id` is this id) and its access tokens carry this id as `sid`;
    once `ended_at` is set, every token of it is refused."""

    __tablename__ = "account_sessions"
    __table_args__ = (Index("ix_account_sessions_account_started", "account_id", "started_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    device: Mapped[str] = mapped_column(String(100))  # "Firefox on Windows", from User-Agent
    user_agent: Mapped[str | None] = mapped_column(String(500))
    client_address: Mapped[str | None] = mapped_column(String(64))  # where it was last used
    started_at: Mapped[datetime]
    last_used_at: Mapped[datetime]  # moved at most once a minute (portal/auth.py)
    expires_at: Mapped[datetime]  # its newest refresh token's expiry
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(30))


class RefreshToken(Base):
    """Opaque refresh tokens, stored hashed. A family is one sign-in and its rotations: its
    id is the `AccountSession`'s."""

    __tablename__ = "refresh_tokens"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    family_id: Mapped[str] = mapped_column(String(40), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_patient_start", "patient_id", "starts_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"))
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"))
    visit_type: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    telehealth: Mapped[bool] = mapped_column(Boolean)
    questionnaire_complete: Mapped[bool] = mapped_column(Boolean)


class Slot(Base):
    __tablename__ = "slots"
    __table_args__ = (Index("ix_slots_start", "starts_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"), index=True)
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer)
    visit_types: Mapped[list[str]]
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"))


class Result(Base):
    __tablename__ = "results"
    __table_args__ = (Index("ix_results_patient_resulted", "patient_id", "resulted_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    ordering_provider_id: Mapped[str | None] = mapped_column(ForeignKey("providers.id"))
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    collected_at: Mapped[datetime | None]
    resulted_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))
    released_at: Mapped[datetime | None]
    provider_comment: Mapped[str | None] = mapped_column(Text)
    report: Mapped[str | None] = mapped_column(Text)
    # The result kinds its patient asked to hear from their doctor first, comma-separated
    # ("" for none), where the query loading it computed them (the result pages do); else
    # None.
    held_kinds: Mapped[str | None] = query_expression()


class ResultComponent(Base):
    __tablename__ = "result_components"
    __table_args__ = (Index("ix_result_components_patient_loinc", "patient_id", "loinc"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    result_id: Mapped[str] = mapped_column(ForeignKey("results.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    position: Mapped[int] = mapped_column(Integer)
    loinc: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    value: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(40))
    ref_low: Mapped[float | None] = mapped_column(Float)
    ref_high: Mapped[float | None] = mapped_column(Float)


class ResultHoldPreference(Base):
    """A patient's "wait for my doctor" choice for one result kind."""

    __tablename__ = "result_hold_preferences"
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    created_at: Mapped[datetime]


class MessageThread(Base):
    __tablename__ = "message_threads"
    __table_args__ = (Index("ix_message_threads_patient_last", "patient_id", "last_message_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    subject: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(30))
    provider_id: Mapped[str | None] = mapped_column(ForeignKey("providers.id"))
    care_team: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    last_message_at: Mapped[datetime]
    # "Ask about this result": the result the thread was started from (migration 0012).
    result_id: Mapped[str | None] = mapped_column(ForeignKey("results.id"), index=True)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_thread_sent", "thread_id", "sent_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("message_threads.id"))
    sender_kind: Mapped[str] = mapped_column(String(20))
    sender_id: Mapped[str | None] = mapped_column(String(40))
    sender_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime]


class ThreadRead(Base):
    """How far one reader has read one thread; unread = provider messages after it."""

    __tablename__ = "thread_reads"
    thread_id: Mapped[str] = mapped_column(ForeignKey("message_threads.id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    read_through: Mapped[datetime]


class Medication(Base):
    __tablename__ = "medications"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    dose: Mapped[str | None] = mapped_column(String(100))
    route: Mapped[str | None] = mapped_column(String(50))
    frequency: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    prescriber_id: Mapped[str | None] = mapped_column(ForeignKey("providers.id"))
    refills_remaining: Mapped[int] = mapped_column(Integer)
    pharmacy: Mapped[str | None] = mapped_column(String(200))


class Allergy(Base):
    __tablename__ = "allergies"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    substance: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    reaction: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str | None] = mapped_column(String(20))
    recorded_on: Mapped[date | None] = mapped_column(Date)


class Problem(Base):
    __tablename__ = "problems"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    icd10: Mapped[str] = mapped_column(String(10))
    onset_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))


class Immunization(Base):
    __tablename__ = "immunizations"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    vaccine: Mapped[str] = mapped_column(String(200))
    cvx: Mapped[str] = mapped_column(String(10))
    administered_on: Mapped[date] = mapped_column(Date)
    dose_number: Mapped[int | None] = mapped_column(Integer)
    lot: Mapped[str | None] = mapped_column(String(40))


class Statement(Base):
    __tablename__ = "statements"
    __table_args__ = (
        Index("ix_statements_guarantor_date", "guarantor_patient_id", "statement_date"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    guarantor_patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    account_number: Mapped[str] = mapped_column(String(20))
    statement_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # The sum of its payments, where the query loading it computed that (the statement
    # pages do: `amountDue` then needs no statement of its own for payments); else None.
    paid_cents: Mapped[int | None] = query_expression()


class StatementLineItem(Base):
    __tablename__ = "statement_line_items"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    statement_id: Mapped[str] = mapped_column(ForeignKey("statements.id"), index=True)
    service_date: Mapped[date] = mapped_column(Date)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    description: Mapped[str] = mapped_column(String(300))
    code: Mapped[str] = mapped_column(String(20))
    charge_cents: Mapped[int] = mapped_column(BigInteger)
    insurance_paid_cents: Mapped[int] = mapped_column(BigInteger)
    adjustment_cents: Mapped[int] = mapped_column(BigInteger)
    patient_cents: Mapped[int] = mapped_column(BigInteger)


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    statement_id: Mapped[str] = mapped_column(ForeignKey("statements.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(20))


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_account_created", "account_id", "created_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(30))
    area: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000))
    object_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Who read or changed what of whose record, when, from where; and who did (or tried)
    what to an account: those rows have no patient (sign-in, passwords, settings)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_patient_at", "patient_id", "at"),
        Index("ix_audit_events_account_at", "account_id", "at"),
        Index("ix_audit_events_action_at", "action", "at"),  # `portal audit --refused`
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime]
    account_id: Mapped[str] = mapped_column(String(40))
    actor_name: Mapped[str] = mapped_column(String(200))
    patient_id: Mapped[str | None] = mapped_column(String(40))
    acting_as: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(10))
    operation: Mapped[str] = mapped_column(String(200))
    object_types: Mapped[str] = mapped_column(String(500))
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    # A refused read (action "refused", docs/audit.md): the area and the policy's reason,
    # and the object id asked for when it was not a patient's (node(id)).
    area: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(200))


class OutboxEvent(Base):
    """Events recorded in the transaction of the write that caused them (domain/events.py).

    `seq` orders them for resuming subscribers; `published_at` is set once the broker took it.
    """

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_patient_seq", "patient_id", "seq"),
        Index("ix_outbox_events_unpublished", "published_at", "seq"),
    )
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    patient_id: Mapped[str | None] = mapped_column(String(40))
    account_id: Mapped[str | None] = mapped_column(String(40), index=True)
    object_id: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]


class OutboxRetention(Base):
    """How far the outbox has been pruned (migration 0010): one row, id 1.

    `pruned_through` is the highest seq ever pruned, raised in the transaction that deletes
    it: a subscriber resuming below it may have missed events that are gone. Not min(seq):
    seqs have gaps (a rolled-back write consumes one on PostgreSQL), and unpublished rows
    below it are kept.
    """

    __tablename__ = "outbox_retention"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    pruned_through: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    pruned_at: Mapped[datetime | None]


# -- account lifecycle (migration 0003) ------------------------------------------------------
class OutgoingMail(Base):
    """The mail outbox (persistence/mail.py): written in the transaction of the request that
    sends it, delivered later by the sender, retried until sent or given up."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index("ix_mail_outbox_pending", "sent_at", "next_attempt_at"),
        Index("ix_mail_outbox_to_created", "to_address", "created_at"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]


class ActivationCode(Base):
    """A code the clinic gives a patient to create their account; stored hashed."""

    __tablename__ = "activation_codes"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))


class SignUpVerification(Base):
    """One signUpWithoutCode request. `patient_id` is null when nobody matched: the row exists
    anyway, so verifying it fails exactly like a wrong code."""

    __tablename__ = "signup_verifications"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class PasswordResetToken(Base):
    __tablename__ = "password_reset_tokens"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class TotpFactor(Base):
    """An account's authenticator secret; on once `confirmed_at` is set."""

    __tablename__ = "totp_factors"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)


class EmailChangeRequest(Base):
    """A new email address waiting for the code sent to it."""

    __tablename__ = "email_change_requests"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    new_email: Mapped[str] = mapped_column(String(320))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)


# -- appointment actions (migration 0004) ----------------------------------------------------
# A slot holds at most one appointment and an appointment at most one slot; a slot is taken
# by a conditional UPDATE (persistence/appointments.py), this index is the backstop.
Index("uq_slots_appointment_id", Slot.appointment_id, unique=True)


class AppointmentCheckIn(Base):
    """An eCheck-in: questionnaire answers and confirmations, for one start time of a visit."""

    __tablename__ = "appointment_check_ins"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    starts_at: Mapped[datetime]
    answers: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    contact_confirmed: Mapped[bool] = mapped_column(Boolean)
    insurance_confirmed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class AppointmentChange(Base):
    """What a patient or proxy did to an appointment, by whom, with its details (a cancel
    reason, the start time it was moved from): the clinic's record of online changes."""

    __tablename__ = "appointment_changes"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    change: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class AppointmentReminder(Base):
    """A reminder sent for one start time of an appointment: the due-reminders job's marker."""

    __tablename__ = "appointment_reminders"
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime]


# -- messaging and notifications (migration 0005) --------------------------------------------
class Attachment(Base):
    """A file a patient or proxy uploaded: metadata here, the bytes in the file store under
    `storage_key` (a random name, never the client's). `purpose` says what it belongs to
    (`message`: a message of `message_id`; `insurance_card`: an eCheck-in of
    `appointment_id`) and so which record area a reader needs."""

    __tablename__ = "attachments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id"), index=True)
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # upload order within what it belongs to
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]


class RefillRequest(Base):
    """A refill asked for online; the request itself is the REFILL thread's first message."""

    __tablename__ = "refill_requests"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    medication_id: Mapped[str] = mapped_column(ForeignKey("medications.id"), index=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("message_threads.id"))
    pharmacy: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]


class NotificationPreference(Base):
    """The channels an account chose for one notification kind (absent: the defaults)."""

    __tablename__ = "notification_preferences"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    channels: Mapped[list[str]]
    updated_at: Mapped[datetime]


class NotificationDelivery(Base):
    """An SMS or push notification to send once the transaction that wrote it commits:
    written by notify(), drained by persistence/deliveries.py. Its text carries no PHI."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_pending", "sent_at", "created_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(30))
    destination: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    # Push (migration 0014): one row per device, `destination` its id; the opaque deep link the
    # app opens, and when a failed send may be tried again (backoff).
    link: Mapped[str | None] = mapped_column(String(80))
    next_attempt_at: Mapped[datetime | None]


# -- push devices and single sign-on (migration 0014) -------------------------------------------
class Device(Base):
    """A browser's Web Push subscription or a phone's APNs/FCM token (domain/devices.py)."""

    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    platform: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    # The endpoint or token, and its SHA-256: one device is registered once, by one account.
    address: Mapped[str] = mapped_column(Text)
    address_hash: Mapped[str] = mapped_column(String(64), unique=True)
    p256dh: Mapped[str | None] = mapped_column(String(100))
    auth: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class SsoIdentity(Base):
    """A person at an identity provider (issuer's `sub` or the configured claim), linked to
    one portal account on proof (usecases/sso.py)."""

    __tablename__ = "sso_identities"
    __table_args__ = (
        Index("uq_sso_identities_provider_subject", "provider", "subject", unique=True),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    provider: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))
    linked_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class SsoLogin(Base):
    """One authorization request under way: what the callback must find again (state, nonce,
    PKCE verifier) and where it sends the person back. Used once; expires."""

    __tablename__ = "sso_logins"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(40))
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(128))
    return_to: Mapped[str] = mapped_column(String(500))
    # The client's PKCE challenge for the one-time code it will exchange (S256).
    client_challenge: Mapped[str] = mapped_column(String(100))
    # Linking: the account that proved itself by being signed in when the flow started.
    link_account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class SsoHandoff(Base):
    """The one-time code the callback hands the web or mobile client; exchanged once, with
    the PKCE verifier of the challenge it was started with, for the portal's own tokens."""

    __tablename__ = "sso_handoffs"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    client_challenge: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


# -- billing and proxy grants (migration 0006) -----------------------------------------------
class ProxyInvitation(Base):
    """The single-use token mailed with a pending grant; stored hashed, it expires."""

    __tablename__ = "proxy_invitations"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("proxy_grants.id"), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))


class PaymentAttempt(Base):
    """One idempotency key of one account: the payment it asked for and how it ended.

    Unique per (account, key): a repeated request finds the first one and answers with its
    outcome. While `status` is pending the gateway is being asked, and its amount counts as
    paid for any other payment of the statement.
    """

    __tablename__ = "payment_attempts"
    __table_args__ = (
        Index("uq_payment_attempts_account_key", "account_id", "idempotency_key", unique=True),
        Index("ix_payment_attempts_statement_status", "statement_id", "status"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    statement_id: Mapped[str] = mapped_column(ForeignKey("statements.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))  # pending, succeeded, declined
    decline_reason: Mapped[str | None] = mapped_column(String(200))
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"))
    gateway_reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class PaymentPlanRequest(Base):
    __tablename__ = "payment_plan_requests"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    statement_id: Mapped[str] = mapped_column(ForeignKey("statements.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    months: Mapped[int] = mapped_column(Integer)
    installment_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))  # requested, approved, declined
    created_at: Mapped[datetime]


class FinancialAssistanceRequest(Base):
    __tablename__ = "financial_assistance_requests"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    statement_id: Mapped[str] = mapped_column(ForeignKey("statements.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    household_size: Mapped[int] = mapped_column(Integer)
    annual_income_cents: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # requested, approved, declined
    created_at: Mapped[datetime]


# -- health readings, records releases, contact changes (migration 0007) ---------------------
class HealthReading(Base):
    """A home reading (domain/readings.py), as entered: `value` and `unit`, or a pressure."""

    __tablename__ = "health_readings"
    __table_args__ = (
        Index("ix_health_readings_patient_kind_taken", "patient_id", "kind", "taken_at"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[float | None] = mapped_column(Float)
    systolic: Mapped[int | None] = mapped_column(Integer)
    diastolic: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(10))
    taken_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    recorded_by_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))


class RecordsReleaseRequest(Base):
    """A request to send a copy of the record somewhere (domain/releases.py)."""

    __tablename__ = "records_release_requests"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    requested_by_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    recipient_kind: Mapped[str] = mapped_column(String(20))
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    recipient_email: Mapped[str | None] = mapped_column(String(200))
    recipient_fax: Mapped[str | None] = mapped_column(String(20))
    recipient_address: Mapped[dict[str, Any] | None]
    areas: Mapped[list[str]]
    from_date: Mapped[date | None] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime]
    status_changed_at: Mapped[datetime]


# -- EHR feed (migration 0008) ---------------------------------------------------------------
class IntegrationEvent(Base):
    """Each EHR feed event applied, inserted in the transaction of its change: the primary key
    makes a re-sent (or concurrently duplicated) event a no-op. Also the log of EHR writes."""

    __tablename__ = "integration_events"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(30))
    fingerprint: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[str | None] = mapped_column(String(40), index=True)
    object_id: Mapped[str | None] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    applied_at: Mapped[datetime]


# -- clinical notes (migration 0012) ---------------------------------------------------------
class ClinicalNote(Base):
    """A signed note from the EHR. An amendment is a new row; the one it replaces keeps its
    text and points to it (`superseded_by_id`), so the earlier version stays readable."""

    __tablename__ = "clinical_notes"
    __table_args__ = (Index("ix_clinical_notes_patient_signed", "patient_id", "signed_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    author_provider_id: Mapped[str | None] = mapped_column(ForeignKey("providers.id"))
    author_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime]
    received_at: Mapped[datetime]
    sensitive_category: Mapped[str | None] = mapped_column(String(40))
    supersedes_id: Mapped[str | None] = mapped_column(String(40))
    superseded_by_id: Mapped[str | None] = mapped_column(String(40))
    withheld_exception: Mapped[str | None] = mapped_column(String(40))
    withheld_reason: Mapped[str | None] = mapped_column(String(1000))
    hidden_from_proxies: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_changed_at: Mapped[datetime | None]


# -- pre-visit questionnaires and consent forms (migration 0012) -----------------------------
class QuestionnaireForm(Base):
    """One version of a questionnaire or consent form, and which visits it is asked for
    (NULL visit type / department: every one). Versions are never changed, only added."""

    __tablename__ = "questionnaire_forms"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    visit_type: Mapped[str | None] = mapped_column(String(100))
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))
    required: Mapped[bool] = mapped_column(Boolean)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    consent_text: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime]


class FormResponse(Base):
    """A patient's (or proxy's) answers to one form for one appointment: a draft until
    submitted; a consent is signed. Submitted and signed rows are never changed."""

    __tablename__ = "form_responses"
    __table_args__ = (
        Index("uq_form_responses_appointment_form", "appointment_id", "form_id", unique=True),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    form_id: Mapped[str] = mapped_column(String(40))
    form_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    acting_as: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    signed_name: Mapped[str | None] = mapped_column(String(200))
    text_sha256: Mapped[str | None] = mapped_column(String(64))


# -- result explanations (migration 0012) ----------------------------------------------------
class ResultExplanation(Base):
    """A short plain-language explanation of a test, by LOINC code (panel or component),
    and a link for more: the shipped catalog, extended or replaced by the EHR feed."""

    __tablename__ = "result_explanations"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    text: Mapped[str] = mapped_column(String(1000))
    more_url: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(10))  # "catalog" | "ehr"
    updated_at: Mapped[datetime]


# -- health maintenance (migration 0012) -----------------------------------------------------
class HealthMaintenanceTopic(Base):
    """A screening or immunization a patient is tracked for, as the EHR last sent it."""

    __tablename__ = "health_maintenance_topics"
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    topic_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    due_on: Mapped[date | None] = mapped_column(Date)
    last_done_on: Mapped[date | None] = mapped_column(Date)
    postponed: Mapped[bool] = mapped_column(Boolean)
    visit_type: Mapped[str | None] = mapped_column(String(100))
    department_id: Mapped[str | None] = mapped_column(String(100))
    notified_for: Mapped[date | None] = mapped_column(Date)  # the due date last told about
    updated_at: Mapped[datetime]


# -- patient tasks: appointment requests, ... (migration 0013) -------------------------------
class AppointmentRequest(Base):
    """A visit asked for (domain/appointment_requests.py); the clinic answers it through the
    EHR feed with the appointment it booked (`appointment_id`) or a reason it declined."""

    __tablename__ = "appointment_requests"
    __table_args__ = (Index("ix_appointment_requests_patient_created", "patient_id", "created_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    requested_by_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    visit_type: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))
    provider_id: Mapped[str | None] = mapped_column(ForeignKey("providers.id"))
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))
    preferred_days: Mapped[list[str]]
    preferred_times: Mapped[list[str]]
    contact_preference: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"))
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    status_changed_at: Mapped[datetime]


class PrescriptionRenewal(Base):
    """A renewal asked of the prescriber (domain/renewals.py); answered through the EHR feed."""

    __tablename__ = "prescription_renewals"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    medication_id: Mapped[str] = mapped_column(ForeignKey("medications.id"), index=True)
    prescriber_id: Mapped[str] = mapped_column(ForeignKey("providers.id"))
    requested_by_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    pharmacy: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(20))
    denial_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    status_changed_at: Mapped[datetime]


class LegalDocument(Base):
    """One published version of the terms of use or the privacy notice (domain/terms.py)."""

    __tablename__ = "legal_documents"
    __table_args__ = (Index("uq_legal_documents_kind_version", "kind", "version", unique=True),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime]


class LegalAcceptance(Base):
    """An account's acceptance of one document version, and when."""

    __tablename__ = "legal_acceptances"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("legal_documents.id"), primary_key=True)
    accepted_at: Mapped[datetime]


class Coverage(Base):
    """A patient's insurance coverage as the EHR last sent it (COVERAGE_UPDATED)."""

    __tablename__ = "coverages"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    priority: Mapped[int] = mapped_column(Integer)  # 1 primary, 2 secondary, ...
    payer: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(200))
    member_id: Mapped[str] = mapped_column(String(40))
    group_number: Mapped[str | None] = mapped_column(String(40))
    subscriber_name: Mapped[str] = mapped_column(String(200))
    subscriber_relation: Mapped[str] = mapped_column(String(20))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    copays: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{service, amount_cents}]
    deductible_cents: Mapped[int | None] = mapped_column(BigInteger)
    deductible_met_cents: Mapped[int | None] = mapped_column(BigInteger)
    out_of_pocket_max_cents: Mapped[int | None] = mapped_column(BigInteger)
    out_of_pocket_met_cents: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]
