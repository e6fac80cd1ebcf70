"""Settings of the HTTP front: body sizes, query limits, rate limits, persisted queries.

Plain data with no imports of ours, so `runtime.config` can hold it without a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from strawberry.http.websocket_origin import normalize_origin


@dataclass(frozen=True)
class Rate:
    """`limit` events per `period` seconds (a burst of `limit` is allowed); 0 turns it off."""

    limit: int
    period: float

    @property
    def enabled(self) -> bool:
        return self.limit > 0 and self.period > 0

    @classmethod
    def parse(cls, text: str) -> Rate:
        """`10/300` (10 per 300 s); `off` or `0` turns the limit off."""
        text = text.strip().lower()
        if text in ("", "0", "off", "none"):
            return cls(0, 0)
        count, _, seconds = text.partition("/")
        return cls(int(count), float(seconds or "1"))


@dataclass(frozen=True)
class QueryLimits:
    max_depth: int = 12
    max_cost: int = 200_000  # 100 threads x 100 messages (~100k) fits; 3 nested pages do not
    max_aliases: int = 30
    max_fields: int = 500
    max_tokens: int = 5_000
    list_cost: int = 10  # assumed length of a list that has no `first`


@dataclass(frozen=True)
class RateLimits:
    sign_in_per_username: Rate = field(default_factory=lambda: Rate(20, 300))
    sign_in_per_address: Rate = field(default_factory=lambda: Rate(60, 300))
    requests_per_account: Rate = field(default_factory=lambda: Rate(1200, 60))


@dataclass(frozen=True)
class HttpSettings:
    max_body_bytes: int = 1 << 20  # a JSON or GET GraphQL request
    max_upload_bytes: int = 55 << 20  # a multipart request (5 attachments of 10 MB + form)
    max_batch: int = 10  # operations in one batched request
    introspection: bool = True
    query: QueryLimits = field(default_factory=QueryLimits)
    rates: RateLimits = field(default_factory=RateLimits)
    persisted_cache_size: int = 2_000
    persisted_ttl_seconds: int = 7 * 24 * 3600
    redis_prefix: str = "portal:"
    # Retry-After of a 503 answered while the database is unreachable (a restart or failover
    # takes seconds; the pool reconnects by itself).
    unavailable_retry_after_seconds: int = 2
    metrics_token: str | None = None  # when set, GET /metrics needs `Bearer <token>`
    # Production without METRICS_TOKEN: /metrics is not served on the public port but on
    # this loopback-only one (0: nowhere). See docs/http-security.md.
    metrics_port: int = 9464
    # Browser origins of the web client allowed by CORS and to open the WebSocket.
    cors_origins: tuple[str, ...] = ()
    hsts_max_age: int = 365 * 24 * 3600  # Strict-Transport-Security over HTTPS; 0: not sent
    compress_min_bytes: int = 1024  # bodies smaller than this go uncompressed; 0: never compress


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return int(env.get(name, str(default)))


def http_settings_from_env(env: Mapping[str, str], production: bool) -> HttpSettings:
    q, r = QueryLimits(), RateLimits()
    return HttpSettings(
        max_body_bytes=_int(env, "HTTP_MAX_BODY_BYTES", HttpSettings.max_body_bytes),
        max_upload_bytes=_int(env, "HTTP_MAX_UPLOAD_BYTES", HttpSettings.max_upload_bytes),
        max_batch=_int(env, "GRAPHQL_MAX_BATCH", HttpSettings.max_batch),
        introspection=env.get("GRAPHQL_INTROSPECTION", "0" if production else "1") == "1",
        query=QueryLimits(
            max_depth=_int(env, "GRAPHQL_MAX_DEPTH", q.max_depth),
            max_cost=_int(env, "GRAPHQL_MAX_COST", q.max_cost),
            max_aliases=_int(env, "GRAPHQL_MAX_ALIASES", q.max_aliases),
            max_fields=_int(env, "GRAPHQL_MAX_FIELDS", q.max_fields),
            max_tokens=_int(env, "GRAPHQL_MAX_TOKENS", q.max_tokens),
            list_cost=_int(env, "GRAPHQL_LIST_COST", q.list_cost),
        ),
        rates=RateLimits(
            sign_in_per_username=_rate(env, "RATE_SIGN_IN_PER_USERNAME", r.sign_in_per_username),
            sign_in_per_address=_rate(env, "RATE_SIGN_IN_PER_ADDRESS", r.sign_in_per_address),
            requests_per_account=_rate(env, "RATE_REQUESTS_PER_ACCOUNT", r.requests_per_account),
        ),
        persisted_cache_size=_int(env, "APQ_CACHE_SIZE", HttpSettings.persisted_cache_size),
        persisted_ttl_seconds=_int(env, "APQ_TTL_SECONDS", HttpSettings.persisted_ttl_seconds),
        redis_prefix=env.get("REDIS_KEY_PREFIX", HttpSettings.redis_prefix),
        metrics_token=env.get("METRICS_TOKEN") or None,
        metrics_port=_int(env, "METRICS_PORT", HttpSettings.metrics_port),
        cors_origins=origins(env.get("CORS_ORIGINS", ""), "CORS_ORIGINS"),
        hsts_max_age=_int(env, "HSTS_MAX_AGE", HttpSettings.hsts_max_age),
        compress_min_bytes=_int(env, "COMPRESS_MIN_BYTES", HttpSettings.compress_min_bytes),
    )


def origins(value: str, name: str) -> tuple[str, ...]:
    """A comma-separated allow-list of origins (`https://app.example.org`), each exactly as a
    browser sends it in `Origin`: scheme, host and a port other than the default, no path.
    `*` is refused: the point is a list (and `*` may never go with credentials)."""
    found = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        if item == "*":
            raise ValueError(f"{name} must list origins; `*` is not allowed")
        scheme, _, rest = item.partition("://")
        origin = normalize_origin(item)
        if scheme.lower() not in ("http", "https") or origin is None or "/" in rest:
            raise ValueError(f"{name}: {item!r} is not an origin such as https://app.example.org")
        found.append(origin)
    return tuple(found)


def _rate(env: Mapping[str, str], name: str, default: Rate) -> Rate:
    value = env.get(name)
    return default if value is None else Rate.parse(value)
