"""Rate limits: a GCRA (generic cell rate algorithm) per key, in Redis when configured
(shared by every instance), in process otherwise or while Redis is unreachable.

GCRA keeps one number per key, the "theoretical arrival time" (TAT): each event pushes it
`period / limit` seconds further; an event is refused when that would put it more than
`period` ahead of now. So `limit` events may come at once, then one per `period / limit`,
and a refusal says exactly when the next event will be allowed. A refused event costs
nothing. Time comes from the app's clock (tests move it), also for Redis.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from runtime.http_settings import Rate

log = logging.getLogger("runtime.ratelimit")

LOCAL_KEYS = 100_000  # the in-process table forgets the least recently used keys past this
REDIS_RETRY_SECONDS = 5.0  # after a Redis failure, use the in-process table this long

# KEYS[1]: the key; ARGV: now (ms), interval (ms), period (ms), cost. Returns the wait in ms
# (0: allowed, and the new TAT is stored with an expiry at the TAT).
GCRA_SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now or tat > now + period then tat = now end
local new_tat = tat + interval * cost
local wait = new_tat - period - now
if wait > 0 then return wait end
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, new_tat - now))
return 0
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until the same event would be allowed

    @property
    def retry_after_seconds(self) -> int:
        """Whole seconds for `Retry-After` (at least 1 when refused)."""
        return max(1, math.ceil(self.retry_after)) if not self.allowed else 0


ALLOWED = Decision(True)


def _gcra(tat: float | None, now: float, rate: Rate, cost: int) -> tuple[float | None, float]:
    """(new TAT or None when refused, wait in seconds)."""
    interval = rate.period / rate.limit
    # A TAT more than a period ahead means the clock went back: start afresh.
    start = now if tat is None or tat < now or tat > now + rate.period else tat
    new_tat = start + interval * cost
    wait = new_tat - rate.period - now
    if wait > 0:
        return None, wait
    return new_tat, 0.0


class LocalLimiter:
    """The in-process table: one TAT per key, least recently used keys forgotten."""

    def __init__(self, keys: int = LOCAL_KEYS) -> None:
        self.keys = keys
        self._tat: OrderedDict[str, float] = OrderedDict()

    def hit(self, key: str, rate: Rate, now: float, cost: int = 1) -> Decision:
        new_tat, wait = _gcra(self._tat.get(key), now, rate, cost)
        if new_tat is None:
            return Decision(False, wait)
        self._tat[key] = new_tat
        self._tat.move_to_end(key)
        if len(self._tat) > self.keys:
            self._tat.popitem(last=False)
        return ALLOWED


class RateLimiter:
    def __init__(self, redis: Redis | None = None, prefix: str = "portal:") -> None:
        self.redis = redis
        self.prefix = prefix + "rl:"
        self.local = LocalLimiter()
        self._script: Any = redis.register_script(GCRA_SCRIPT) if redis is not None else None
        self._redis_down_until = 0.0

    async def hit(self, key: str, rate: Rate, now: datetime, cost: int = 1) -> Decision:
        """Count `cost` events for `key`; refused (and not counted) past the rate."""
        if not rate.enabled or cost <= 0:
            return ALLOWED
        if cost > rate.limit:  # more than a whole burst: never allowed, however long one waits
            return Decision(False, rate.period)
        seconds = now.timestamp()
        if self._script is not None and time.monotonic() >= self._redis_down_until:
            try:
                wait_ms = await self._script(
                    keys=[self.prefix + key],
                    args=[
                        int(seconds * 1000),
                        int(rate.period * 1000 / rate.limit),
                        int(rate.period * 1000),
                        cost,
                    ],
                )
            except (RedisError, OSError):
                self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
                log.warning("rate limits: Redis unreachable; counting in process for now")
            else:
                wait = int(wait_ms) / 1000
                return ALLOWED if wait <= 0 else Decision(False, wait)
        return self.local.hit(key, rate, seconds, cost)


def hashed(value: str) -> str:
    """A bounded, non-reversible key part for what a client typed (a username)."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
