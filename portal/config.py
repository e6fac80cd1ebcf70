"""Configuration from environment variables (twelve-factor). Production refuses dev secrets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from domain.access import AgePolicy
from domain.appointments import AppointmentPolicy
from domain.identity import LockoutPolicy
from domain.results import ReleasePolicy
from domain.scopes import RecordArea
from persistence.db import DEFAULT_DATABASE_URL

DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"  # noqa: S105 (refused in production)


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
    audit_flush_seconds: float = 0.5

    @property
    def production(self) -> bool:
        return self.env == "production"

    def check(self) -> None:
        if self.production and (self.jwt_secret == DEV_JWT_SECRET or len(self.jwt_secret) < 32):
            raise ConfigError("production needs JWT_SECRET: 32+ characters, not the dev default")


def _hours(value: str) -> timedelta | None:
    return None if value.strip().lower() == "never" else timedelta(hours=float(value))


def _holds(value: str) -> dict[str, timedelta | None]:
    """`lab=0,imaging=72,11529-5=never` → hold per kind or code."""
    pairs = (item.split("=", 1) for item in value.split(",") if item.strip())
    return {key.strip(): _hours(hold) for key, hold in pairs}


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
        env=portal_env,
        database_url=e.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        redis_url=e.get("REDIS_URL") or None,
        jwt_secret=e.get("JWT_SECRET", DEV_JWT_SECRET),
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
        appointments=AppointmentPolicy(
            cancel_notice=timedelta(hours=int(e.get("APPOINTMENT_CANCEL_NOTICE_HOURS", "24")))
        ),
    )
    settings.check()
    return settings
