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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


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


class ProxyGrant(Base):
    __tablename__ = "proxy_grants"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    proxy_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    relationship: Mapped[str] = mapped_column(String(20))
    scopes: Mapped[list[str]]
    status: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]


class RefreshToken(Base):
    """Opaque refresh tokens, stored hashed. A family is one sign-in and its rotations."""

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
    """Who read or changed what of whose record, when, from where."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_patient_at", "patient_id", "at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime]
    account_id: Mapped[str] = mapped_column(String(40))
    actor_name: Mapped[str] = mapped_column(String(200))
    patient_id: Mapped[str] = mapped_column(String(40))
    acting_as: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(10))
    operation: Mapped[str] = mapped_column(String(200))
    object_types: Mapped[str] = mapped_column(String(500))
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))


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


# -- account lifecycle (migration 0003) ------------------------------------------------------


# -- appointment actions (migration 0004) ----------------------------------------------------


# -- messaging and notifications (migration 0005) --------------------------------------------


# -- billing and proxy grants (migration 0006) -----------------------------------------------


# -- health readings, records releases, contact changes (migration 0007) ---------------------


# -- EHR feed (migration 0008) ---------------------------------------------------------------
