"""Configuration from environment variables (twelve-factor). Production refuses dev secrets."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from domain.access import AgePolicy
from domain.accounts import LifecyclePolicy
from domain.appointments import DEFAULT_SELF_SCHEDULABLE, AppointmentPolicy
from domain.billing import PaymentPlanPolicy
from domain.eligibility import EligibilityPolicy, rules_from_json
from domain.identity import LockoutPolicy
from domain.messages import MessagingPolicy
from domain.proxies import ProxyPolicy
from domain.results import ReleasePolicy
from domain.scopes import RecordArea
from persistence.db import DEFAULT_DATABASE_URL
from persistence.mail import MailSettings
from runtime.http_settings import HttpSettings, http_settings_from_env
from runtime.messaging_settings import DEFAULT_ATTACHMENTS_DIR, messaging_from_env
from runtime.push.settings import PushConfigError, PushSettings, push_settings_from_env
from runtime.realtime.settings import RealtimeSettings
from runtime.sso_settings import SsoConfigError, SsoSettings, sso_settings_from_env

DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"  # noqa: S105 (refused in production)
DEV_INTEGRATION_TOKEN = "dev-only-ehr-feed-token-change-me-0123456789"  # noqa: S105 (same)


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = "patient-portal"
    jwt_audience: str = "patient-portal-app"
    access_token_ttl: timedelta = timedelta(minutes=15)
    refresh_token_ttl: timedelta = timedelta(days=30)
    graphiql: bool = True
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    ages: AgePolicy = field(default_factory=AgePolicy)
    release: ReleasePolicy = field(default_factory=ReleasePolicy)
    appointments: AppointmentPolicy = field(default_factory=AppointmentPolicy)
    proxies: ProxyPolicy = field(default_factory=ProxyPolicy)
    payment_plans: PaymentPlanPolicy = field(default_factory=PaymentPlanPolicy)
    audit_flush_seconds: float = 0.5
    integration_token: str = DEV_INTEGRATION_TOKEN  # the EHR feed's bearer secret
    http: HttpSettings = field(default_factory=HttpSettings)  # limits, rates, APQ
    # How often the app sends due appointment reminders; 0 = never (tests, `portal remind`).
    reminder_interval_seconds: float = 0.0
    mail: MailSettings = field(default_factory=MailSettings)
    messaging: MessagingPolicy = field(default_factory=MessagingPolicy)
    attachments_dir: str = DEFAULT_ATTACHMENTS_DIR
    lifecycle: LifecyclePolicy = field(default_factory=LifecyclePolicy)
    realtime: RealtimeSettings = field(default_factory=RealtimeSettings)
    # The sandbox gateway's record of its answers (runtime/payments.py); None: in memory.
    sandbox_gateway_ledger: str | None = None
    # Payments left pending by a process that died mid-charge are settled or released
    # (usecases/billing.py) every this many seconds, once pending longer than `after`;
    # 0 = never (tests, `portal reconcile-payments`).
    payment_reconcile_interval_seconds: float = 0.0
    payment_reconcile_after: timedelta = timedelta(minutes=2)
    push: PushSettings = field(default_factory=PushSettings)  # docs/push.md
    sso: SsoSettings = field(default_factory=SsoSettings)  # docs/sso.md

    @property
    def production(self) -> bool:
        return self.env == "production"

    def check(self) -> None:
        if self.production and (self.jwt_secret == DEV_JWT_SECRET or len(self.jwt_secret) < 32):
            raise ConfigError("production needs JWT_SECRET: 32+ characters, not the dev default")
        token = self.integration_token
        if self.production and (token == DEV_INTEGRATION_TOKEN or len(token) < 32):
            raise ConfigError(
                "production needs INTEGRATION_TOKEN: 32+ characters, not the dev default"
            )
        if self.production and not self.mail.smtp_host:
            raise ConfigError("production needs SMTP_HOST: mail must not be written to files")
        try:
            self.push.check(self.production)
            self.sso.check(self.production)
        except (PushConfigError, SsoConfigError) as exc:
            raise ConfigError(str(exc)) from exc


def _hours(value: str) -> timedelta | None:
    return None if value.strip().lower() == "never" else timedelta(hours=float(value))


def _holds(value: str) -> dict[str, timedelta | None]:
    """`lab=0,imaging=72,11529-5=never` → hold per kind or code."""
    pairs = (item.split("=", 1) for item in value.split(",") if item.strip())
    return {key.strip(): _hours(hold) for key, hold in pairs}


def _mail(e: Mapping[str, str]) -> MailSettings:
    default = MailSettings()
    return MailSettings(
        smtp_host=e.get("SMTP_HOST") or None,
        smtp_port=int(e.get("SMTP_PORT", "25")),
        smtp_username=e.get("SMTP_USERNAME") or None,
        smtp_password=e.get("SMTP_PASSWORD") or None,
        smtp_tls=e.get("SMTP_TLS", "auto").lower(),
        sender=e.get("MAIL_FROM", default.sender),
        directory=e.get("MAIL_DIR", default.directory),
        drain_seconds=float(e.get("MAIL_DRAIN_SECONDS", "5")),
    )


def _names(value: str, sep: str = ",") -> frozenset[str]:
    return frozenset(name.strip() for name in value.split(sep) if name.strip())


def _appointment_policy(e: Mapping[str, str]) -> AppointmentPolicy:
    """`APPOINTMENT_SELF_SCHEDULE_BY_DEPARTMENT=dep-012=Follow-Up|Telehealth Visit;dep-020=`
    gives those departments their own bookable visit types (empty: none)."""
    by_department = (
        item.split("=", 1)
        for item in e.get("APPOINTMENT_SELF_SCHEDULE_BY_DEPARTMENT", "").split(";")
        if item.strip()
    )
    return AppointmentPolicy(
        cancel_notice=timedelta(hours=int(e.get("APPOINTMENT_CANCEL_NOTICE_HOURS", "24"))),
        check_in_opens=timedelta(days=int(e.get("APPOINTMENT_CHECK_IN_OPENS_DAYS", "7"))),
        reminder_lead=timedelta(hours=int(e.get("APPOINTMENT_REMINDER_HOURS", "24"))),
        self_schedulable=_names(e["APPOINTMENT_SELF_SCHEDULE_TYPES"])
        if "APPOINTMENT_SELF_SCHEDULE_TYPES" in e
        else DEFAULT_SELF_SCHEDULABLE,
        self_schedulable_by_department={
            department.strip(): _names(types, "|") for department, types in by_department
        },
        eligibility=_eligibility(e),
    )


def _eligibility(e: Mapping[str, str]) -> EligibilityPolicy:
    """`APPOINTMENT_ELIGIBILITY_RULES`: a JSON list of rules (domain/eligibility.py; `[]`
    for none), by default the demo rules; `APPOINTMENT_PANEL_MONTHS` (default 36)."""
    default = EligibilityPolicy()
    raw = e.get("APPOINTMENT_ELIGIBILITY_RULES")
    try:
        rules = rules_from_json(json.loads(raw)) if raw is not None else default.rules
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise ConfigError(f"APPOINTMENT_ELIGIBILITY_RULES: {exc}") from None
    months = int(e.get("APPOINTMENT_PANEL_MONTHS", str(default.panel_months)))
    return EligibilityPolicy(rules=rules, panel_months=months)


def _push(e: Mapping[str, str], production: bool) -> PushSettings:
    try:
        return push_settings_from_env(e, production)
    except PushConfigError as exc:
        raise ConfigError(str(exc)) from exc


def _sso(e: Mapping[str, str]) -> SsoSettings:
    try:
        return sso_settings_from_env(e)
    except (SsoConfigError, ValueError) as exc:
        raise ConfigError(str(exc)) from exc


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    e = os.environ if env is None else env
    portal_env = e.get("PORTAL_ENV", "development")
    ages = AgePolicy(
        adolescent_age=int(e.get("PROXY_ADOLESCENT_AGE", "12")),
        adult_age=int(e.get("PROXY_ADULT_AGE", "18")),
        adolescent_parent_areas=frozenset(
            RecordArea(a.strip().lower())
            for a in e.get(
                "PROXY_ADOLESCENT_PARENT_AREAS", "appointments,billing,allergies,immunizations"
            ).split(",")
            if a.strip()
        ),
        timezone=e.get("PORTAL_TIMEZONE", "America/New_York"),
    )
    release = ReleasePolicy(
        default_hold=_hours(e.get("RESULT_HOLD_DEFAULT_HOURS", "0")),
        hold_by_kind=_holds(e.get("RESULT_HOLD_BY_KIND", "")),
        hold_by_code=_holds(e.get("RESULT_HOLD_BY_CODE", "")),
    )
    settings = Settings(
        mail=_mail(e),
        messaging=messaging_from_env(e),
        attachments_dir=e.get("ATTACHMENTS_DIR", DEFAULT_ATTACHMENTS_DIR),
        lifecycle=LifecyclePolicy(
            activation_code_ttl=timedelta(days=int(e.get("ACTIVATION_CODE_TTL_DAYS", "90"))),
            reset_token_ttl=timedelta(minutes=int(e.get("PASSWORD_RESET_TTL_MINUTES", "60"))),
        ),
        realtime=RealtimeSettings.from_env(e),
        sandbox_gateway_ledger=e.get("SANDBOX_GATEWAY_LEDGER", "var/sandbox-gateway.jsonl") or None,
        payment_reconcile_interval_seconds=float(e.get("PAYMENT_RECONCILE_INTERVAL_SECONDS", "60")),
        audit_flush_seconds=float(e.get("AUDIT_FLUSH_SECONDS", "0.5")),
        payment_reconcile_after=timedelta(
            seconds=float(e.get("PAYMENT_RECONCILE_AFTER_SECONDS", "120"))
        ),
        push=_push(e, production=portal_env == "production"),
        sso=_sso(e),
        env=portal_env,
        database_url=e.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        redis_url=e.get("REDIS_URL") or None,
        http=http_settings_from_env(e, production=portal_env == "production"),
        jwt_secret=e.get("JWT_SECRET", DEV_JWT_SECRET),
        integration_token=e.get("INTEGRATION_TOKEN", DEV_INTEGRATION_TOKEN),
        jwt_issuer=e.get("JWT_ISSUER", "patient-portal"),
        jwt_audience=e.get("JWT_AUDIENCE", "patient-portal-app"),
        access_token_ttl=timedelta(seconds=int(e.get("JWT_ACCESS_TTL_SECONDS", "900"))),
        refresh_token_ttl=timedelta(days=int(e.get("REFRESH_TOKEN_TTL_DAYS", "30"))),
        graphiql=e.get("GRAPHIQL", "0" if portal_env == "production" else "1") == "1",
        lockout=LockoutPolicy(
            max_failures=int(e.get("LOCKOUT_MAX_FAILURES", "5")),
            lock_for=timedelta(minutes=int(e.get("LOCKOUT_MINUTES", "15"))),
        ),
        ages=ages,
        release=release,
        appointments=_appointment_policy(e),
        proxies=ProxyPolicy(
            invitation_ttl=timedelta(days=int(e.get("PROXY_INVITATION_TTL_DAYS", "14"))),
            adult_grant_months=int(e.get("PROXY_ADULT_GRANT_MONTHS", "18")),
        ),
        payment_plans=PaymentPlanPolicy(
            min_months=int(e.get("PAYMENT_PLAN_MIN_MONTHS", "2")),
            max_months=int(e.get("PAYMENT_PLAN_MAX_MONTHS", "24")),
            min_installment_cents=int(e.get("PAYMENT_PLAN_MIN_INSTALLMENT_CENTS", "1000")),
        ),
        reminder_interval_seconds=float(e.get("APPOINTMENT_REMINDER_INTERVAL_SECONDS", "300")),
    )
    settings.check()
    return settings
