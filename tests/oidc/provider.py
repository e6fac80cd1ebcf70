"""Run panva's `oidc-provider` (npm) as a real OpenID Provider for the tests.

The package is installed once into a cache directory (`OIDC_PROVIDER_CACHE`, default
~/.cache/portal-tests/oidc-provider-<version>) with the machine's npm and Node (20+); the
tests skip, saying why, when Node, npm or the registry is not there.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from joserfc.jwk import RSAKey

from tests.mailbox import free_port

VERSION = "9.13.3"
SCRIPT = Path(__file__).with_name("provider.mjs")


def installed() -> Path:
    """The directory with node_modules/oidc-provider, installing it the first time."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("single sign-on tests need Node.js 20+ and npm (oidc-provider)")
    default = Path.home() / ".cache" / "portal-tests" / f"oidc-provider-{VERSION}"
    home = Path(os.environ.get("OIDC_PROVIDER_CACHE", default))
    if not (home / "node_modules" / "oidc-provider" / "package.json").exists():
        home.mkdir(parents=True, exist_ok=True)
        package = {"private": True, "type": "module", "dependencies": {"oidc-provider": VERSION}}
        (home / "package.json").write_text(json.dumps(package))
        try:
            subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts"],  # noqa: S607
                cwd=home,
                check=True,
                capture_output=True,
                timeout=300,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            pytest.skip(f"could not npm install oidc-provider@{VERSION}: {exc}")
    shutil.copy(SCRIPT, home / SCRIPT.name)
    return home


def new_key(kid: str) -> dict[str, Any]:
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})
    jwk: dict[str, Any] = dict(key.as_dict(private=True))
    return jwk


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str]


@dataclass
class OpenIdProvider:
    home: Path
    clients: list[Client]
    id_token_ttl: int = 120
    emails: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    keys: list[dict[str, Any]] = field(default_factory=lambda: [new_key("key-1")])
    process: asyncio.subprocess.Process | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        config = {
            "issuer": self.issuer,
            "port": self.port,
            "clients": [c.__dict__ for c in self.clients],
            "keys": self.keys,
            "idTokenTtl": self.id_token_ttl,
            "emails": self.emails,
        }
        path = self.home / f"config-{self.port}.json"
        path.write_text(json.dumps(config))
        self.process = await asyncio.create_subprocess_exec(
            "node",
            str(self.home / SCRIPT.name),
            str(path),
            cwd=self.home,
            # Nobody reads its output, so none is kept (a full pipe would stall it).
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        discovery = f"{self.issuer}/.well-known/openid-configuration"
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                if self.process.returncode is not None:
                    raise AssertionError(f"oidc-provider exited ({self.process.returncode})")
                try:
                    if (await client.get(discovery)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError("oidc-provider did not start within 30 s")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
        self.process = None

    async def rotate(self, keys: list[dict[str, Any]]) -> None:
        """Restart with other signing keys, as a deploy that rotates them does."""
        await self.stop()
        self.keys = keys
        await self.start()

    async def log_in(
        self, browser: httpx.AsyncClient, authorization_url: str, login: str, stop_at: str
    ) -> str:
        """Play the person at the provider's login and consent pages; return the URL it sends
        the browser back to (the first one starting with `stop_at`)."""
        url = authorization_url
        for _ in range(12):
            response = await browser.get(url)
            if response.status_code in (302, 303):
                url = urljoin(url, response.headers["location"])
                if url.startswith(stop_at):
                    return url
                continue
            assert response.status_code == 200, response.text
            prompt = "login" if 'value="login"' in response.text else "consent"
            form = {"prompt": prompt, "login": login, "password": "anything"}
            posted = await browser.post(url, data=form)
            assert posted.status_code in (302, 303), posted.text
            url = urljoin(url, posted.headers["location"])
            if url.startswith(stop_at):
                return url
        raise AssertionError("the provider never sent the browser back")

    async def token_for(self, client: Client, login: str, nonce: str) -> str:
        """An ID token the provider issues to another client (with the nonce of our flow):
        what a token substitution attack would present to us."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        params = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uris[0],
            "scope": "openid",
            "state": "s" * 16,
            "nonce": nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        async with httpx.AsyncClient(base_url=self.issuer) as browser:
            start = str(httpx.URL(f"{self.issuer}/auth", params=params))
            back = await self.log_in(browser, start, login, client.redirect_uris[0])
            code = parse_qs(urlsplit(back).query)["code"][0]
            token = await browser.post(
                "/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": client.redirect_uris[0],
                    "code_verifier": verifier,
                },
                auth=(client.client_id, client.client_secret),
            )
        assert token.status_code == 200, token.text
        id_token: str = token.json()["id_token"]
        return id_token
