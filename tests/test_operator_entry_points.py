"""Names operator tooling outside this repository imports (the peer bench's token minter,
../shared/peer-bench/bff/mint_tokens.py): moving them breaks the benchmark we are judged by."""

from __future__ import annotations

from datetime import UTC, datetime


def test_the_peer_bench_token_minter_finds_what_it_imports() -> None:
    from persistence.db import create_engine
    from portal.config import from_env
    from portal.security import TokenIssuer

    settings = from_env({})
    issuer = TokenIssuer(
        settings.jwt_secret,
        settings.jwt_issuer,
        settings.jwt_audience,
        settings.access_token_ttl,
    )
    token, _expires = issuer.issue("acc-0000001", datetime.now(UTC))
    assert token
    assert callable(create_engine)
