"""Settings for operator tooling that imports them from the edge (the peer bench's token
minter: `from portal.config import from_env`). They live in runtime/config.py."""

from runtime.config import Settings, from_env

__all__ = ["Settings", "from_env"]
