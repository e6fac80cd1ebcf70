"""Single sign-on: start a flow, finish it at the callback, exchange the one-time code,
list and unlink identities, turn password sign-in off and on (rules: domain/sso.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

from domain import sso as rules
from domain.sso import CallbackFailed, ProviderRules
from persistence.sso import PendingLogin
from persistence.uow import UnitOfWork
from usecases.sessions import Client, Issuing, NoteAccount, SignedIn, start_and_commit


class OidcPort(Protocol):
    async def authorization_url(self, state: str, nonce: str, code_challenge: str) -> str: ...

    async def exchange(
        self, code: str, code_verifier: str, nonce: str, now: datetime, skew: timedelta
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class StartSso:
    provider: ProviderRules
    redirect_uri: str
    code_challenge: str
    link_account_id: str | None = None  # linking from a signed-in session


@dataclass(frozen=True)
class FinishSso:
    provider: ProviderRules
    state: str
    code: str | None
    error: str | None


@dataclass(frozen=True)
class Finished:
    """Where to send the browser, and what happened (for the audit)."""

    redirect: str
    account_id: str | None
    outcome: str  # "signed_in", "linked" or a failure reason


async def start_sso(
    command: StartSso,
    uow: UnitOfWork,
    oidc: OidcPort,
    allowed_redirects: frozenset[str],
    now: datetime,
) -> str:
    """The provider's authorization URL for a new flow."""
    return_to = rules.check_redirect(command.redirect_uri, allowed_redirects)
    challenge = rules.check_challenge(command.code_challenge)
    state, nonce, verifier = rules.new_secret(), rules.new_secret(), rules.new_secret()
    try:
        url = await oidc.authorization_url(state, nonce, rules.s256(verifier))
    except CallbackFailed as exc:
        raise rules.ProviderUnavailable() from exc
    login = PendingLogin(
        command.provider.id, nonce, verifier, return_to, challenge, command.link_account_id
    )
    async with uow:
        uow.sso.add_login(rules.digest(state), login, now, now + rules.LOGIN_TTL)
        await uow.commit()
    return url


def _back(return_to: str, **params: str) -> str:
    return f"{return_to}{'&' if '?' in return_to else '?'}{urlencode(params)}"


async def finish_sso(
    command: FinishSso, uow: UnitOfWork, oidc: OidcPort, now: datetime, skew: timedelta
) -> Finished:
    """The callback: take the flow its state names (once), check the provider's answer, find
    or link the account, and hand the client a one-time code. Raises UnknownState when the
    state names no flow under way."""
    async with uow:
        login = await uow.sso.take_login(rules.digest(command.state), now)
        await uow.commit()
    if login is None or login.provider != command.provider.id:
        raise rules.UnknownState()
    try:
        if command.error or not command.code:
            raise CallbackFailed(rules.PROVIDER_REFUSED)
        claims = await oidc.exchange(command.code, login.code_verifier, login.nonce, now, skew)
        subject = claims.get(command.provider.subject_claim)
        if not isinstance(subject, str) or not subject:
            raise CallbackFailed(rules.INVALID_RESPONSE, "no subject claim")
        return await _account_for(command.provider, login, subject, claims, uow, now)
    except CallbackFailed as failed:
        return Finished(
            _back(login.return_to, error=failed.reason), login.link_account_id, failed.reason
        )


async def _account_for(
    provider: ProviderRules,
    login: PendingLogin,
    subject: str,
    claims: dict[str, Any],
    uow: UnitOfWork,
    now: datetime,
) -> Finished:
    async with uow:
        identity = await uow.sso.identity(provider.id, subject)
        if login.link_account_id is not None:
            # Proof: the person was signed in to this account when the flow started.
            if identity is not None and identity.account_id != login.link_account_id:
                raise CallbackFailed(rules.IDENTITY_IN_USE)
            if identity is None:
                await uow.sso.link(login.link_account_id, provider.id, subject, now)
            await uow.commit()
            return Finished(
                _back(login.return_to, linked=provider.id), login.link_account_id, "linked"
            )
        if identity is not None:
            account_id = identity.account_id
            await uow.sso.used(identity.id, now)
        else:
            account_id = await _vouched_account(provider, claims, uow)
            await uow.sso.link(account_id, provider.id, subject, now)
        code = rules.new_secret()
        uow.sso.add_handoff(
            rules.digest(code), account_id, login.client_challenge, now, now + rules.HANDOFF_TTL
        )
        await uow.commit()
    return Finished(_back(login.return_to, code=code), account_id, "signed_in")


async def _vouched_account(provider: ProviderRules, claims: dict[str, Any], uow: UnitOfWork) -> str:
    """Proof by a claim the provider is configured to vouch for (never an email alone)."""
    value = claims.get(provider.account_claim) if provider.account_claim else None
    account_id = await uow.sso.account_by_username(value) if isinstance(value, str) else None
    if account_id is None:
        raise CallbackFailed(rules.NOT_LINKED)
    return account_id


@dataclass(frozen=True)
class CompleteSsoSignIn:
    code: str
    code_verifier: str
    client: Client


async def complete_sso_sign_in(
    command: CompleteSsoSignIn, uow: UnitOfWork, issuing: Issuing, now: datetime, note: NoteAccount
) -> SignedIn:
    """The portal's own session for the account the one-time code was handed out for,
    started as signIn starts it."""
    account_id = await take_handoff(command.code, command.code_verifier, uow, now)
    note(account_id)
    async with uow:
        return await start_and_commit(uow, issuing, account_id, command.client, now)


async def take_handoff(code: str, code_verifier: str, uow: UnitOfWork, now: datetime) -> str:
    """The account a one-time code was handed out for, if the verifier matches its
    challenge; the code is used either way (one try)."""
    async with uow:
        taken = await uow.sso.take_handoff(rules.digest(code), now)
        await uow.commit()
    if taken is None or not rules.verifier_matches(code_verifier, taken[1]):
        raise rules.InvalidHandoff(field="code")
    return taken[0]


async def unlink_identity(account_id: str, identity_id: str, uow: UnitOfWork) -> None:
    async with uow:
        identities = await uow.sso.identities_of(account_id)
        if identity_id not in {i.id for i in identities}:
            raise rules.IdentityNotFound(field="id")
        if len(identities) == 1 and await uow.sso.sso_only(account_id):
            raise rules.LastSignInMethod(field="id")
        await uow.sso.unlink(account_id, identity_id)
        await uow.commit()


async def set_password_sign_in(account_id: str, enabled: bool, uow: UnitOfWork) -> None:
    """SSO-only (enabled=False) needs a linked identity to sign in with."""
    async with uow:
        if not enabled and not await uow.sso.identities_of(account_id):
            raise rules.NothingLinked(field="enabled")
        await uow.sso.set_sso_only(account_id, not enabled)
        await uow.commit()
