"""Settings of the real-time layer. Plain data with no imports of ours (runtime.config holds it)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RealtimeSettings:
    # Redis channels are `<prefix>patient:<id>` and `<prefix>account:<id>`.
    channel_prefix: str = "portal:"
    # How often the outbox is drained even when no commit in this process asked for it
    # (events written by another process, or left behind while the broker was down).
    drain_seconds: float = 0.5
    # Each look on the timer that finds the outbox empty doubles the wait for the next, up to
    # this; a commit of this process, or events found, bring it back to `drain_seconds`.
    drain_idle_seconds: float = 4.0
    # An idle stream re-reads the subscriber's grants this often (revocations without events).
    recheck_seconds: float = 15.0
    max_connections_per_account: int = 10
    # Deliveries loading from the database at once, process-wide: a fan-out to many
    # subscribers must leave connections of the pool to requests.
    delivery_concurrency: int = 6
    max_subscriptions_per_connection: int = 20
    # Browser origins (besides the portal's own) whose pages may open the WebSocket; the
    # token travels in `connection_init`, never in a cookie, so this is not an auth check.
    allowed_origins: tuple[str, ...] = ()
    # The automatic release of held results: how often it runs (0: never, e.g. tests) and how
    # far back a hold may have ended to still be released with an event (older ones were
    # already visible by policy and are left as they are).
    release_seconds: float = 30.0
    release_lookback: timedelta = timedelta(hours=24)
    # How long published events stay in the outbox for resuming clients (None: for ever),
    # and how often the app prunes older ones (0: never, the default outside `from_env`, so
    # tests opt in; `portal prune-outbox` prunes once).
    retention: timedelta | None = timedelta(hours=72)
    prune_seconds: float = 0.0

    @classmethod
    def from_env(cls, e: Mapping[str, str]) -> RealtimeSettings:
        return cls(
            channel_prefix=e.get("REDIS_CHANNEL_PREFIX", "portal:"),
            drain_seconds=float(e.get("REALTIME_DRAIN_SECONDS", "0.5")),
            drain_idle_seconds=float(e.get("REALTIME_DRAIN_IDLE_SECONDS", "4")),
            recheck_seconds=float(e.get("REALTIME_RECHECK_SECONDS", "15")),
            max_connections_per_account=int(e.get("WS_MAX_CONNECTIONS_PER_ACCOUNT", "10")),
            delivery_concurrency=int(e.get("REALTIME_DELIVERY_CONCURRENCY", "6")),
            allowed_origins=tuple(
                o.strip() for o in e.get("WS_ALLOWED_ORIGINS", "").split(",") if o.strip()
            ),
            max_subscriptions_per_connection=int(
                e.get("WS_MAX_SUBSCRIPTIONS_PER_CONNECTION", "20")
            ),
            release_seconds=float(e.get("RESULT_RELEASE_INTERVAL_SECONDS", "30")),
            release_lookback=timedelta(hours=float(e.get("RESULT_RELEASE_LOOKBACK_HOURS", "24"))),
            retention=_retention(e.get("REALTIME_RETENTION_HOURS", "72")),
            prune_seconds=_not_negative(
                "REALTIME_PRUNE_INTERVAL_SECONDS",
                e.get("REALTIME_PRUNE_INTERVAL_SECONDS", "3600"),
                "seconds between prunes, 0 or more (0: the app never prunes)",
            ),
        )


def _not_negative(name: str, value: str, meaning: str) -> float:
    """A number of 0 or more, or a ValueError that names the variable and what it takes."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a number of {meaning}; got {value!r}")
    return number


def _retention(value: str) -> timedelta | None:
    """`REALTIME_RETENTION_HOURS`: hours (fractions allowed); 0 keeps events for ever."""
    hours = _not_negative(
        "REALTIME_RETENTION_HOURS", value, "hours, 0 or more (0: keep events for ever)"
    )
    return timedelta(hours=hours) if hours > 0 else None
