"""Automatic persisted queries (Apollo's APQ protocol, version 1).

A client sends `extensions.persistedQuery = {version: 1, sha256Hash}` without the document;
an unknown hash answers `PersistedQueryNotFound` (code PERSISTED_QUERY_NOT_FOUND), the
client sends the hash again with the document, we check the hash and keep the document,
and from then on the hash alone is enough. Documents live in a bounded in-process LRU and,
when REDIS_URL is set, in Redis (shared by every instance, with a TTL). A document is kept
only once it has parsed and validated, so junk cannot fill the store.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("portal.apq")

HASH = re.compile(r"[0-9a-f]{64}")


class PersistedQueryError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code

    def graphql_error(self) -> GraphQLError:
        return GraphQLError(str(self), extensions={"code": self.code})


def not_found() -> PersistedQueryError:
    return PersistedQueryError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")


@dataclass(frozen=True)
class Lookup:
    query: str
    register: str | None = None  # the hash to store the query under, once it validated


def requested_hash(extensions: dict[str, Any] | None) -> str | None:
    """The APQ hash a request carries (None: not an APQ request); refuses a malformed one."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict):
        raise PersistedQueryError("`persistedQuery` must be an object.", "BAD_REQUEST")
    if persisted.get("version") != 1:
        raise PersistedQueryError(
            "Unsupported persisted query version; only version 1 is supported.",
            "PERSISTED_QUERY_NOT_SUPPORTED",
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not HASH.fullmatch(digest.lower()):
        raise PersistedQueryError(
            "`persistedQuery.sha256Hash` must be a SHA-256 hex digest.", "BAD_REQUEST"
        )
    return digest.lower()


class PersistedQueries:
    def __init__(
        self,
        redis: Redis | None = None,
        *,
        prefix: str = "portal:",
        entries: int = 2_000,
        ttl_seconds: int = 7 * 24 * 3600,
    ) -> None:
        self.redis = redis
        self.prefix = prefix + "apq:"
        self.entries = entries
        self.ttl_seconds = ttl_seconds
        self._local: OrderedDict[str, str] = OrderedDict()

    async def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> Lookup | None:
        """The document to run, or None when the request is not an APQ request (its own
        `query`, if any, is used). Raises PersistedQueryError."""
        digest = requested_hash(extensions)
        if digest is None:
            return None
        if query is not None:
            if hashlib.sha256(query.encode()).hexdigest() != digest:
                raise PersistedQueryError(
                    "provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH"
                )
            return Lookup(query, register=digest)
        stored = await self.get(digest)
        if stored is None:
            raise not_found()
        return Lookup(stored)

    async def get(self, digest: str) -> str | None:
        query = self._local.get(digest)
        if query is not None:
            self._local.move_to_end(digest)
            return query
        if self.redis is None:
            return None
        try:
            raw = await self.redis.get(self.prefix + digest)
        except (RedisError, OSError):
            log.warning("persisted queries: Redis unreachable; using this instance's cache")
            return None
        if raw is None:
            return None
        query = raw.decode() if isinstance(raw, bytes) else str(raw)
        self._remember(digest, query)
        return query

    async def put(self, digest: str, query: str) -> None:
        self._remember(digest, query)
        if self.redis is not None:
            try:
                await self.redis.set(self.prefix + digest, query, ex=self.ttl_seconds)
            except (RedisError, OSError):
                log.warning("persisted queries: Redis unreachable; kept in this instance only")

    def _remember(self, digest: str, query: str) -> None:
        self._local[digest] = query
        self._local.move_to_end(digest)
        if len(self._local) > self.entries:
            self._local.popitem(last=False)
