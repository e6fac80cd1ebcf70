"""Single sign-on against a real OpenID Provider (panva's oidc-provider, run by the tests):
a good sign-in, then what must be refused: a bad signature, a wrong audience, a replayed
code, a wrong state, an expired ID token; a rotated signing key is followed. Linking only on
proof, listing and unlinking, SSO-only accounts, web and mobile return addresses."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select

from persistence import models as m
from runtime.oidc import OidcClient
from runtime.sso_settings import ProviderSettings, SsoSettings
from tests.api.account_helpers import activate, activation_code, people_without_account
from tests.conftest import (
    ACCOUNT_IDS,
    ALEX,
    DEMO_PASSWORD,
    JORDAN,
    Database,
    Portal,
    _portal,
    errors_of,
)
from tests.mailbox import free_port
from tests.oidc.provider import Client, OpenIdProvider, installed, new_key

PORTAL_URL = "http://portal.test"
WEB = "https://portal.example.org/sso/done"
APP = "org.example.portal:/sso"
CAMPUS = Client("portal-campus", "campus-secret-0123456789", [f"{PORTAL_URL}/sso/campus/callback"])
PARTNER = Client(
    "portal-partner", "partner-secret-0123456789", [f"{PORTAL_URL}/sso/partner/callback"]
)
OTHER_RP = Client("another-app", "another-secret-0123456789", ["https://another.example/cb"])

START = """
mutation Start($input: StartSsoInput!) {
  startSso(input: $input) { authorizationUrl errors { code field } }
}
"""
COMPLETE = """
mutation Complete($input: CompleteSsoSignInInput!) {
  completeSsoSignIn(input: $input) {
    accessToken refreshToken viewer { account { username } } errors { code field }
  }
}
"""
IDENTITIES = "query { viewer { linkedIdentities { id provider { id name } linkedAt } } }"
UNLINK = """
mutation Unlink($input: UnlinkIdentityInput!) {
  unlinkIdentity(input: $input) { ok errors { code field } }
}
"""
PASSWORD_SIGN_IN = """
mutation Set($input: SetPasswordSignInInput!) {
  setPasswordSignIn(input: $input) { passwordSignIn errors { code field } }
}
"""
SIGN_IN = """
mutation SignIn($input: SignInInput!) { signIn(input: $input) { accessToken errors { code } } }
"""
WHO = "query { viewer { account { username } } }"


@pytest.fixture(scope="module")
def op_home() -> Any:
    return installed()


@pytest.fixture
async def op(op_home: Any) -> AsyncIterator[OpenIdProvider]:
    provider = OpenIdProvider(
        op_home,
        [CAMPUS, PARTNER, OTHER_RP],
        emails={"alex-at-partner": "alex.rivera@example.org"},
    )
    await provider.start()
    yield provider
    await provider.stop()


def sso_settings(op: OpenIdProvider) -> SsoSettings:
    campus = ProviderSettings(
        id="campus",
        name="Campus NetID",
        issuer=op.issuer,
        client_id=CAMPUS.client_id,
        client_secret=CAMPUS.client_secret,
        scopes=("openid", "profile"),
        account_claim="preferred_username",  # the campus vouches for portal usernames
    )
    partner = ProviderSettings(
        id="partner",
        name="Partner hospital",
        issuer=op.issuer,
        client_id=PARTNER.client_id,
        client_secret=PARTNER.client_secret,
        scopes=("openid", "email"),
    )
    offline = ProviderSettings(
        id="offline",
        name="Down for maintenance",
        issuer=f"http://127.0.0.1:{free_port()}",
        client_id="portal",
        client_secret="offline-secret-0123456789",
    )
    return SsoSettings(
        providers=(campus, partner, offline),
        public_url=PORTAL_URL,
        redirect_uris=frozenset({WEB, APP}),
    )


@pytest.fixture
async def portal(fresh_db: Database, op: OpenIdProvider) -> AsyncIterator[Portal]:
    async for portal in _portal(fresh_db, sso=sso_settings(op)):
        # The provider signs with the real time; the portal checks against its clock.
        portal.clock.current = datetime.now(UTC)
        yield portal


@dataclass
class Flow:
    authorization_url: str
    verifier: str

    @property
    def nonce(self) -> str:
        return parse_qs(urlsplit(self.authorization_url).query)["nonce"][0]


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def start(
    portal: Portal,
    provider: str = "campus",
    redirect: str = WEB,
    as_user: str | None = None,
    token: str | None = None,
) -> Flow:
    verifier, challenge = pkce()
    variables = {
        "input": {
            "provider": provider,
            "redirectUri": redirect,
            "codeChallenge": challenge,
            "link": as_user is not None or token is not None,
        }
    }
    result = await portal.gql(START, variables, as_user=as_user, token=token)
    payload = result["data"]["startSso"]
    assert payload["errors"] == [], payload
    return Flow(payload["authorizationUrl"], verifier)


async def at_provider(op: OpenIdProvider, flow: Flow, login: str) -> str:
    """The person signs in at the provider; the callback URL it sends the browser to."""
    async with httpx.AsyncClient() as browser:
        return await op.log_in(browser, flow.authorization_url, login, PORTAL_URL)


async def callback(portal: Portal, url: str) -> httpx.Response:
    parts = urlsplit(url)
    return await portal.client.get(f"{parts.path}?{parts.query}")


def returned(response: httpx.Response, to: str = WEB) -> dict[str, str]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{to}?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def complete(portal: Portal, code: str, verifier: str) -> dict[str, Any]:
    variables = {"input": {"code": code, "codeVerifier": verifier}}
    payload: dict[str, Any] = (await portal.gql(COMPLETE, variables))["data"]["completeSsoSignIn"]
    return payload


async def sign_in_with(
    portal: Portal, op: OpenIdProvider, login: str, provider: str = "campus", redirect: str = WEB
) -> dict[str, str]:
    flow = await start(portal, provider, redirect)
    answer = returned(await callback(portal, await at_provider(op, flow, login)), redirect)
    if "code" in answer:
        answer["verifier"] = flow.verifier
    return answer


async def identities(portal: Portal, who: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await portal.gql(IDENTITIES, as_user=who))["data"]["viewer"][
        "linkedIdentities"
    ]
    return found


# -- a good sign-in ----------------------------------------------------------------------------
async def test_a_good_sign_in_gives_the_portals_own_tokens(
    portal: Portal, op: OpenIdProvider
) -> None:
    providers = (await portal.gql("{ ssoProviders { id name } }"))["data"]["ssoProviders"]
    assert providers == [
        {"id": "campus", "name": "Campus NetID"},
        {"id": "partner", "name": "Partner hospital"},
        {"id": "offline", "name": "Down for maintenance"},
    ]
    answer = await sign_in_with(portal, op, ALEX)  # the campus vouches: username alex.rivera
    payload = await complete(portal, answer["code"], answer["verifier"])
    assert payload["errors"] == []
    assert payload["viewer"] == {"account": {"username": ALEX}}
    who = await portal.gql(WHO, token=payload["accessToken"])
    assert who["data"]["viewer"]["account"]["username"] == ALEX
    assert [i["provider"]["id"] for i in await identities(portal, ALEX)] == ["campus"]

    # The code works once.
    again = await complete(portal, answer["code"], answer["verifier"])
    assert again["errors"] == [{"code": "INVALID_CODE", "field": "code"}]

    # Next time the linked identity is found (one row, not a second link).
    answer = await sign_in_with(portal, op, ALEX)
    assert (await complete(portal, answer["code"], answer["verifier"]))["errors"] == []
    assert len(await identities(portal, ALEX)) == 1


# -- what must be refused -------------------------------------------------------------------------
class Tamper(httpx.AsyncBaseTransport):
    """The network between us and the provider's token endpoint, changing the ID token: what
    a forged or substituted token looks like to the relying party."""

    def __init__(self, change: Callable[[str], str]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.change = change

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path != "/token":
            return response
        body = orjson.loads(await response.aread())
        if "id_token" in body:
            body["id_token"] = self.change(body["id_token"])
        return httpx.Response(
            response.status_code,
            headers={"content-type": "application/json"},
            content=orjson.dumps(body),
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


async def tamper(portal: Portal, change: Callable[[str], str]) -> None:
    sso = portal.services.sso
    old = sso.clients["campus"]
    sso.clients["campus"] = OidcClient(old.provider, old.callback_url, Tamper(change))
    await old.close()


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    found: dict[str, Any] = orjson.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return found


def signed_by(key: dict[str, Any] | RSAKey) -> Callable[[str], str]:
    """Sign the provider's claims again with `key`, keeping the header's key id."""
    signer = key if isinstance(key, RSAKey) else RSAKey.import_key(key)

    def change(token: str) -> str:
        header = orjson.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        return jwt.encode({"alg": "RS256", "kid": header["kid"]}, claims_of(token), signer)

    return change


async def nothing_linked(portal: Portal) -> None:
    async with portal.services.session() as session:
        assert list(await session.scalars(select(m.SsoIdentity.id))) == []
        assert list(await session.scalars(select(m.SsoHandoff.id))) == []


async def test_a_bad_signature_is_refused(portal: Portal, op: OpenIdProvider) -> None:
    attacker = RSAKey.generate_key(2048)
    await tamper(portal, signed_by(attacker))
    assert await sign_in_with(portal, op, ALEX) == {"error": "invalid_response"}
    await nothing_linked(portal)


async def test_a_token_for_another_audience_is_refused(portal: Portal, op: OpenIdProvider) -> None:
    flow = await start(portal)
    # The same provider, the same person, our nonce even, and a good signature: but issued to
    # another application.
    foreign = await op.token_for(OTHER_RP, ALEX, flow.nonce)
    assert claims_of(foreign)["aud"] == OTHER_RP.client_id
    await tamper(portal, lambda _token: foreign)
    answer = returned(await callback(portal, await at_provider(op, flow, ALEX)))
    assert answer == {"error": "invalid_response"}
    await nothing_linked(portal)


async def test_a_replayed_code_is_refused(portal: Portal, op: OpenIdProvider) -> None:
    flow = await start(portal)
    url = await at_provider(op, flow, ALEX)
    assert "code" in returned(await callback(portal, url))
    # The same callback again: its state is used up.
    replay = await callback(portal, url)
    assert replay.status_code == 400
    assert "not valid or has expired" in replay.text
    # The used code spliced into a new flow: the provider refuses it (and our verifier differs).
    fresh = await start(portal)
    fresh_url = await at_provider(op, fresh, ALEX)
    old_code = parse_qs(urlsplit(url).query)["code"][0]
    state = parse_qs(urlsplit(fresh_url).query)["state"][0]
    spliced = f"{PORTAL_URL}/sso/campus/callback?code={old_code}&state={state}"
    assert returned(await callback(portal, spliced)) == {"error": "invalid_response"}


async def test_a_wrong_state_is_refused_and_spends_nothing(
    portal: Portal, op: OpenIdProvider
) -> None:
    flow = await start(portal)
    url = await at_provider(op, flow, ALEX)
    code = parse_qs(urlsplit(url).query)["code"][0]
    for state in (secrets.token_urlsafe(32), ""):
        wrong = await callback(
            portal, f"{PORTAL_URL}/sso/campus/callback?code={code}&state={state}"
        )
        assert wrong.status_code == 400
    # The state of a flow started for another provider does not fit this one either.
    other = await callback(portal, url.replace("/sso/campus/", "/sso/partner/"))
    assert other.status_code == 400
    await nothing_linked(portal)


async def test_an_expired_id_token_is_refused(portal: Portal, op: OpenIdProvider) -> None:
    flow = await start(portal)
    url = await at_provider(op, flow, ALEX)
    # The provider's ID tokens live 120 s; the leeway for clock skew is 60 s.
    portal.clock.advance(timedelta(seconds=185))
    assert returned(await callback(portal, url)) == {"error": "invalid_response"}
    await nothing_linked(portal)


async def test_a_rotated_signing_key_is_followed_and_a_retired_one_refused(
    portal: Portal, op: OpenIdProvider
) -> None:
    retired = op.keys[0]
    answer = await sign_in_with(portal, op, ALEX)
    assert "code" in answer  # the first key set is cached now
    await op.rotate([new_key("key-2")])
    answer = await sign_in_with(portal, op, ALEX)
    assert "code" in answer  # a token signed with key-2: the key set was fetched again
    payload = await complete(portal, answer["code"], answer["verifier"])
    assert payload["errors"] == []

    await tamper(portal, signed_by(retired))  # kid key-1 is no longer published
    assert await sign_in_with(portal, op, ALEX) == {"error": "invalid_response"}


# -- linking only on proof ----------------------------------------------------------------------
async def test_no_proof_no_link_and_an_email_alone_is_no_proof(
    portal: Portal, op: OpenIdProvider
) -> None:
    assert await sign_in_with(portal, op, "stranger") == {"error": "not_linked"}
    async with portal.services.session() as session:
        alex = await session.get(m.Account, ACCOUNT_IDS[ALEX])
        assert alex is not None
        assert alex.email == "alex.rivera@example.org"  # what the partner says of its user
    answer = await sign_in_with(portal, op, "alex-at-partner", provider="partner")
    assert answer == {"error": "not_linked"}
    await nothing_linked(portal)


async def test_a_signed_in_account_links_lists_and_unlinks(
    portal: Portal, op: OpenIdProvider
) -> None:
    # Jordan, signed in to the portal, links his partner identity.
    flow = await start(portal, "partner", as_user=JORDAN)
    assert returned(await callback(portal, await at_provider(op, flow, "jr-4711"))) == {
        "linked": "partner"
    }
    [identity] = await identities(portal, JORDAN)
    assert identity["provider"] == {"id": "partner", "name": "Partner hospital"}
    assert await identities(portal, ALEX) == []

    # From now on that identity signs Jordan in, on the phone too (app URI, PKCE-bound).
    answer = await sign_in_with(portal, op, "jr-4711", provider="partner", redirect=APP)
    wrong = await complete(portal, answer["code"], pkce()[0])
    assert wrong["errors"] == [{"code": "INVALID_CODE", "field": "code"}]
    # One try: the right verifier after a wrong one is too late.
    late = await complete(portal, answer["code"], answer["verifier"])
    assert late["errors"] == [{"code": "INVALID_CODE", "field": "code"}]
    answer = await sign_in_with(portal, op, "jr-4711", provider="partner", redirect=APP)
    payload = await complete(portal, answer["code"], answer["verifier"])
    assert payload["viewer"] == {"account": {"username": JORDAN}}

    # Alex cannot take it over, nor unlink it.
    flow = await start(portal, "partner", as_user=ALEX)
    answer = returned(await callback(portal, await at_provider(op, flow, "jr-4711")))
    assert answer == {"error": "identity_in_use"}
    refused = await portal.gql(UNLINK, {"input": {"id": identity["id"]}}, as_user=ALEX)
    assert refused["data"]["unlinkIdentity"]["errors"] == [
        {"code": "IDENTITY_NOT_FOUND", "field": "id"}
    ]
    done = await portal.gql(UNLINK, {"input": {"id": identity["id"]}}, as_user=JORDAN)
    assert done["data"]["unlinkIdentity"] == {"ok": True, "errors": []}
    assert await identities(portal, JORDAN) == []
    assert await sign_in_with(portal, op, "jr-4711", provider="partner") == {"error": "not_linked"}

    # Each of these account actions is in the audit trail.
    await portal.services.audit.flush()
    async with portal.services.session() as session:
        stmt = select(m.AuditEvent.object_types, m.AuditEvent.account_id, m.AuditEvent.action)
        rows = set((await session.execute(stmt)).all())
    assert ("ssoCallback:linked", ACCOUNT_IDS[JORDAN], "write") in rows
    assert ("ssoCallback:identity_in_use", ACCOUNT_IDS[ALEX], "attempt") in rows
    assert ("unlinkIdentity", ACCOUNT_IDS[JORDAN], "write") in rows
    assert ("unlinkIdentity", ACCOUNT_IDS[ALEX], "attempt") in rows


async def test_an_account_can_be_sso_only(portal: Portal, op: OpenIdProvider) -> None:
    password = {"input": {"username": ALEX, "password": DEMO_PASSWORD}}
    refused = await portal.gql(PASSWORD_SIGN_IN, {"input": {"enabled": False}}, as_user=ALEX)
    assert refused["data"]["setPasswordSignIn"]["errors"] == [
        {"code": "NO_LINKED_IDENTITY", "field": "enabled"}
    ]
    assert (await portal.gql(SIGN_IN, password))["data"]["signIn"]["errors"] == []

    assert "code" in await sign_in_with(portal, op, ALEX)  # links via the vouched username
    done = await portal.gql(PASSWORD_SIGN_IN, {"input": {"enabled": False}}, as_user=ALEX)
    assert done["data"]["setPasswordSignIn"] == {"passwordSignIn": False, "errors": []}
    # The right password no longer signs in (and counts towards the lockout).
    answer = (await portal.gql(SIGN_IN, password))["data"]["signIn"]
    assert answer == {"accessToken": None, "errors": [{"code": "INVALID_CREDENTIALS"}]}
    async with portal.services.session() as session:
        alex = await session.get(m.Account, ACCOUNT_IDS[ALEX])
        assert alex is not None
        assert alex.failed_sign_ins == 1
    # The last way in cannot be unlinked.
    [identity] = await identities(portal, ALEX)
    last = await portal.gql(UNLINK, {"input": {"id": identity["id"]}}, as_user=ALEX)
    assert last["data"]["unlinkIdentity"]["errors"] == [
        {"code": "LAST_SIGN_IN_METHOD", "field": "id"}
    ]
    await portal.gql(PASSWORD_SIGN_IN, {"input": {"enabled": True}}, as_user=ALEX)
    assert (await portal.gql(SIGN_IN, password))["data"]["signIn"]["errors"] == []


async def test_an_activation_code_then_a_link_makes_an_sso_only_account(
    portal: Portal, op: OpenIdProvider
) -> None:
    """The activation code is the proof: activateAccount signs the new account in, and that
    session links the provider's identity, then turns the password off."""
    [person] = await people_without_account(portal)
    code = await activation_code(portal, person.id)
    activated = await activate(
        portal,
        activationCode=code,
        birthDate=person.birth_date.isoformat(),
        username="new.student",
        password="A-long-enough-passphrase-2026",
    )
    token = activated["accessToken"]
    flow = await start(portal, "partner", token=token)
    answer = returned(await callback(portal, await at_provider(op, flow, "ns-2026")))
    assert answer == {"linked": "partner"}
    variables = {"input": {"enabled": False}}
    done = await portal.gql(PASSWORD_SIGN_IN, variables, token=token)
    assert done["data"]["setPasswordSignIn"]["errors"] == []
    answer = await sign_in_with(portal, op, "ns-2026", provider="partner", redirect=APP)
    payload = await complete(portal, answer["code"], answer["verifier"])
    assert payload["viewer"] == {"account": {"username": "new.student"}}


async def test_only_configured_providers_and_return_addresses(portal: Portal) -> None:
    _verifier, challenge = pkce()
    cases = [
        ({"provider": "elsewhere", "redirectUri": WEB}, "UNKNOWN_PROVIDER", "provider"),
        (
            {"provider": "campus", "redirectUri": "https://evil.example/sso/done"},
            "REDIRECT_NOT_ALLOWED",
            "redirectUri",
        ),
        ({"provider": "campus", "redirectUri": f"{WEB}/x"}, "REDIRECT_NOT_ALLOWED", "redirectUri"),
        (
            {"provider": "campus", "redirectUri": WEB, "codeChallenge": "plain"},
            "INVALID_CHALLENGE",
            "codeChallenge",
        ),
        ({"provider": "offline", "redirectUri": WEB}, "PROVIDER_UNAVAILABLE", None),
    ]
    for given, code, field in cases:
        result = await portal.gql(START, {"input": {"codeChallenge": challenge, **given}})
        assert result["data"]["startSso"] == {
            "authorizationUrl": None,
            "errors": [{"code": code, "field": field}],
        }, given
    linking = {"provider": "campus", "redirectUri": WEB, "codeChallenge": challenge, "link": True}
    assert errors_of(await portal.gql(START, {"input": linking})) == [("UNAUTHENTICATED", None)]
    async with portal.services.session() as session:
        assert list(await session.scalars(select(m.SsoLogin.id))) == []
