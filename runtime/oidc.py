"""The OpenID Connect relying party's conversation with one provider: discovery, the
authorization request (code flow, PKCE S256, state, nonce), the code exchange, and the ID
token check: signature against the provider's JWKS (fetched again once when a token names a
key we do not have: key rotation), then iss, aud (and azp), exp, iat, nonce, with a bounded
leeway for clock skew. JOSE is joserfc's; only asymmetric algorithms are accepted.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from domain.sso import INVALID_RESPONSE, CallbackFailed
from runtime.sso_settings import ProviderSettings, SsoSettings

ALGORITHMS = ["RS256", "PS256", "ES256"]


class OidcClient:
    def __init__(
        self,
        provider: ProviderSettings,
        callback_url: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.provider = provider
        self.callback_url = callback_url
        self._http = httpx.AsyncClient(transport=transport, timeout=10.0)
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self._http.aclose()

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise CallbackFailed(INVALID_RESPONSE, f"{url}: {type(exc).__name__}") from exc
        if not isinstance(body, dict):
            raise CallbackFailed(INVALID_RESPONSE, f"{url}: not a JSON object")
        return body

    async def metadata(self) -> dict[str, Any]:
        async with self._lock:
            if self._metadata is None:
                url = f"{self.provider.issuer}/.well-known/openid-configuration"
                found = await self._get_json(url)
                # OpenID Connect Discovery 4.3: the issuer must be the one we asked.
                if found.get("issuer") != self.provider.issuer:
                    raise CallbackFailed(INVALID_RESPONSE, "discovery names another issuer")
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(found.get(key), str):
                        raise CallbackFailed(INVALID_RESPONSE, f"discovery lacks {key}")
                self._metadata = found
            return self._metadata

    async def _key_set(self, refresh: bool) -> KeySet:
        if self._keys is None or refresh:
            jwks = await self._get_json((await self.metadata())["jwks_uri"])
            try:
                self._keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError) as exc:
                raise CallbackFailed(INVALID_RESPONSE, "unreadable JWKS") from exc
        return self._keys

    async def authorization_url(self, state: str, nonce: str, code_challenge: str) -> str:
        endpoint = (await self.metadata())["authorization_endpoint"]
        params = {
            "response_type": "code",
            "client_id": self.provider.client_id,
            "redirect_uri": self.callback_url,
            "scope": " ".join(self.provider.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"

    async def exchange(
        self, code: str, code_verifier: str, nonce: str, now: datetime, skew: timedelta
    ) -> dict[str, Any]:
        """Trade the code for tokens and return the checked ID token's claims."""
        endpoint = (await self.metadata())["token_endpoint"]
        # client_secret_basic, with the form-encoding RFC 6749 section 2.3.1 asks for.
        auth = (
            quote(self.provider.client_id, safe=""),
            quote(self.provider.client_secret, safe=""),
        )
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.callback_url,
            "code_verifier": code_verifier,
        }
        try:
            response = await self._http.post(endpoint, data=form, auth=auth)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise CallbackFailed(INVALID_RESPONSE, f"token endpoint: {type(exc).__name__}") from exc
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise CallbackFailed(INVALID_RESPONSE, f"token endpoint {response.status_code} {error}")
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise CallbackFailed(INVALID_RESPONSE, "no id_token")
        return await self.verify_id_token(id_token, nonce, now, skew)

    async def verify_id_token(
        self, id_token: str, nonce: str, now: datetime, skew: timedelta
    ) -> dict[str, Any]:
        try:
            try:
                token = jwt.decode(id_token, await self._key_set(refresh=False), ALGORITHMS)
            except InvalidKeyIdError:
                # A key we have not seen: the provider may have rotated; ask once more.
                token = jwt.decode(id_token, await self._key_set(refresh=True), ALGORITHMS)
            claims: dict[str, Any] = dict(token.claims)
            registry = jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                leeway=int(skew.total_seconds()),
                iss={"essential": True, "value": self.provider.issuer},
                aud={"essential": True, "value": self.provider.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(claims)
        except JoseError as exc:
            raise CallbackFailed(INVALID_RESPONSE, f"ID token: {exc.error}") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        # OpenID Connect Core 3.1.3.7: with several audiences, azp must name us.
        if len(audiences) > 1 and claims.get("azp") != self.provider.client_id:
            raise CallbackFailed(INVALID_RESPONSE, "ID token: azp")
        return claims


class SingleSignOn:
    def __init__(
        self, settings: SsoSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.clients = {
            p.id: OidcClient(p, settings.callback_url(p.id), transport) for p in settings.providers
        }

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()
