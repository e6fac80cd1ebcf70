"""The token issuer for operator tooling that imports it from the edge (the peer bench's token
minter: `from portal.security import TokenIssuer`). It lives in runtime/security.py."""

from runtime.security import TokenIssuer

__all__ = ["TokenIssuer"]
