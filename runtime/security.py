from portal.security import (
    TokenIssuer,
    hash_password,
    hash_refresh_token,
    new_refresh_token,
    verify_password,
)

__all__ = [
    "TokenIssuer",
    "hash_password",
    "hash_refresh_token",
    "new_refresh_token",
    "verify_password",
]
