"""Single sign-on configuration from the environment (docs/sso.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from domain.sso import MAX_CLOCK_SKEW, ProviderRules


class SsoConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ProviderSettings:
    id: str  # in URLs and the API: lowercase letters, digits, dashes
    name: str  # shown on the sign-in button
    issuer: str  # discovery at <issuer>/.well-known/openid-configuration
    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = ("openid",)
    # The claim that identifies a person at this provider (stable, never reassigned).
    subject_claim: str = "sub"
    # A claim the provider vouches names the portal account (its username), so the first
    # sign-in links without a portal sign-in; None: only linking from a signed-in session.
    account_claim: str | None = None

    def rules(self) -> ProviderRules:
        return ProviderRules(self.id, self.subject_claim, self.account_claim)


@dataclass(frozen=True)
class SsoSettings:
    providers: tuple[ProviderSettings, ...] = ()
    public_url: str = "http://127.0.0.1:8000"  # where the provider sends the browser back
    # The exact addresses clients may be sent back to: web pages and registered app URIs.
    redirect_uris: frozenset[str] = field(default_factory=frozenset)
    clock_skew: timedelta = timedelta(seconds=60)

    def provider(self, provider_id: str) -> ProviderSettings | None:
        return next((p for p in self.providers if p.id == provider_id), None)

    def callback_url(self, provider_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/sso/{provider_id}/callback"

    def check(self, production: bool) -> None:
        if self.clock_skew > MAX_CLOCK_SKEW:
            raise SsoConfigError("SSO_CLOCK_SKEW_SECONDS is at most 300")
        if not (production and self.providers):
            return
        insecure = [
            url
            for url in (self.public_url, *(p.issuer for p in self.providers))
            if not url.startswith("https://")
        ]
        if insecure:
            raise SsoConfigError(
                "production single sign-on needs https for SSO_PUBLIC_URL and issuers"
            )
        if not self.redirect_uris:
            raise SsoConfigError("SSO_REDIRECT_URIS must name where clients are sent back")


def sso_settings_from_env(e: Mapping[str, str]) -> SsoSettings:
    """`SSO_PROVIDERS=campus,partner` and per provider `SSO_CAMPUS_ISSUER`, `_CLIENT_ID`,
    `_CLIENT_SECRET`, optional `_NAME`, `_SCOPES` (space separated), `_SUBJECT_CLAIM`,
    `_ACCOUNT_CLAIM`."""
    providers = []
    for provider_id in (p.strip() for p in e.get("SSO_PROVIDERS", "").split(",")):
        if not provider_id:
            continue
        prefix = f"SSO_{provider_id.upper().replace('-', '_')}_"
        missing = [k for k in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET") if not e.get(prefix + k)]
        if missing:
            raise SsoConfigError(
                f"single sign-on provider {provider_id} needs {prefix}{missing[0]}"
            )
        scopes = tuple(e.get(prefix + "SCOPES", "openid").split())
        providers.append(
            ProviderSettings(
                id=provider_id,
                name=e.get(prefix + "NAME", provider_id),
                issuer=e[prefix + "ISSUER"].rstrip("/"),
                client_id=e[prefix + "CLIENT_ID"],
                client_secret=e[prefix + "CLIENT_SECRET"],
                scopes=scopes if "openid" in scopes else ("openid", *scopes),
                subject_claim=e.get(prefix + "SUBJECT_CLAIM", "sub"),
                account_claim=e.get(prefix + "ACCOUNT_CLAIM") or None,
            )
        )
    return SsoSettings(
        providers=tuple(providers),
        public_url=e.get("SSO_PUBLIC_URL", SsoSettings.public_url),
        redirect_uris=frozenset(u for u in e.get("SSO_REDIRECT_URIS", "").split() if u),
        clock_skew=timedelta(seconds=int(e.get("SSO_CLOCK_SKEW_SECONDS", "60"))),
    )
