"""Single sign-on configuration from the environment (docs/sso.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from runtime.config import ConfigError, from_env

CAMPUS = {
    "SSO_PROVIDERS": "campus, partner-hospital",
    "SSO_CAMPUS_ISSUER": "https://login.campus.example/",
    "SSO_CAMPUS_CLIENT_ID": "portal",
    "SSO_CAMPUS_CLIENT_SECRET": "s3cret",
    "SSO_CAMPUS_NAME": "Campus NetID",
    "SSO_CAMPUS_SCOPES": "profile email",
    "SSO_CAMPUS_ACCOUNT_CLAIM": "preferred_username",
    "SSO_PARTNER_HOSPITAL_ISSUER": "https://idp.partner.example",
    "SSO_PARTNER_HOSPITAL_CLIENT_ID": "portal-2",
    "SSO_PARTNER_HOSPITAL_CLIENT_SECRET": "s3cret-2",
    "SSO_PARTNER_HOSPITAL_SUBJECT_CLAIM": "employee_id",
    "SSO_PUBLIC_URL": "https://portal.example.org",
    "SSO_REDIRECT_URIS": "https://portal.example.org/sso/done org.example.portal:/sso",
}
PRODUCTION = {
    "PORTAL_ENV": "production",
    "JWT_SECRET": "x" * 40,
    "INTEGRATION_TOKEN": "y" * 40,
    "SMTP_HOST": "smtp.internal",
}


def test_several_providers_each_with_its_own_settings() -> None:
    sso = from_env(CAMPUS).sso
    campus, partner = sso.providers
    assert (campus.id, campus.name, campus.issuer) == (
        "campus",
        "Campus NetID",
        "https://login.campus.example",
    )
    assert campus.scopes == ("openid", "profile", "email")
    assert (campus.subject_claim, campus.account_claim) == ("sub", "preferred_username")
    assert (partner.id, partner.name, partner.scopes) == (
        "partner-hospital",
        "partner-hospital",
        ("openid",),
    )
    assert (partner.subject_claim, partner.account_claim) == ("employee_id", None)
    assert sso.callback_url("campus") == "https://portal.example.org/sso/campus/callback"
    assert sso.redirect_uris == {"https://portal.example.org/sso/done", "org.example.portal:/sso"}
    assert sso.clock_skew == timedelta(seconds=60)
    assert from_env({**PRODUCTION, **CAMPUS}).sso.providers == sso.providers


def test_what_is_refused() -> None:
    missing = {k: v for k, v in CAMPUS.items() if k != "SSO_CAMPUS_CLIENT_SECRET"}
    with pytest.raises(ConfigError, match="SSO_CAMPUS_CLIENT_SECRET"):
        from_env(missing)
    with pytest.raises(ConfigError, match="at most 300"):
        from_env({**CAMPUS, "SSO_CLOCK_SKEW_SECONDS": "3600"})
    with pytest.raises(ConfigError, match="https"):
        from_env({**PRODUCTION, **CAMPUS, "SSO_PUBLIC_URL": "http://portal.example.org"})
    with pytest.raises(ConfigError, match="SSO_REDIRECT_URIS"):
        from_env({**PRODUCTION, **CAMPUS, "SSO_REDIRECT_URIS": ""})
    assert from_env(PRODUCTION).sso.providers == ()  # no providers: nothing to check
