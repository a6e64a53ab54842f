"""Per-key requests-per-minute limits in Redis, shared by every API process.

A fixed one-minute window per key: one INCR (and EXPIRE on the first hit) per request, sent as
one Lua script call (``EVALSHA``): one round trip and one command for Redis to parse, where a
MULTI/INCR/EXPIRE/EXEC pipeline was four commands (and redis-py copies its response callbacks
into every pipeline it builds, a measurable share of a request's CPU).

When Redis is unreachable the limiter degrades open for reads (``GET``/``HEAD``/``OPTIONS``
are served from PostgreSQL, without rate-limit headers) and stays closed for writes: those
answer 503, since most of them must queue a task on that same Redis. After a failure, reads
skip Redis for ``DEGRADED_SECONDS`` so an outage costs them no connect timeout per request.
"""

from __future__ import annotations

import logging
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from redis.commands.core import Script

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
DEGRADED_SECONDS = 5.0
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Per client (one per process; tests may swap it): when reads may try Redis again.
_degraded_until: weakref.WeakKeyDictionary[redis.Redis, float] = weakref.WeakKeyDictionary()
#: The count of this window's hits, this one included; the key expires a little after its window.
#: Atomic in Redis, so setting the TTL only on the first hit cannot leave a key without one.
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_scripts: weakref.WeakKeyDictionary[redis.Redis, Script] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_at: int  # epoch seconds when the window ends
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": datetime.fromtimestamp(self.reset_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    @property
    def retry_after(self) -> int:
        return max(1, self.reset_at - int(time.time()))


def hit(client: redis.Redis, key_id: str, limit: int, now: float | None = None) -> RateLimitState:
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    name = f"atelier:rl:{key_id}:{window}"
    script = _scripts.get(client)
    if script is None:  # EVALSHA, loading the script once per server on NOSCRIPT
        script = _scripts[client] = client.register_script(_HIT)
    count = int(script(keys=[name], args=[WINDOW_SECONDS + 5]))  # type: ignore[arg-type]
    return RateLimitState(limit=limit, remaining=max(0, limit - count),
                          reset_at=(window + 1) * WINDOW_SECONDS, allowed=count <= limit)


def check(client: redis.Redis, key_id: str, limit: int, *, method: str) -> RateLimitState | None:
    """``hit``, or None when Redis is down and the request only reads (degraded open).

    Writes re-raise the Redis error (rendered as 503, nothing accepted)."""
    read = method.upper() in READ_METHODS
    if read and time.monotonic() < _degraded_until.get(client, 0.0):
        return None
    try:
        return hit(client, key_id, limit)
    except redis.RedisError as exc:
        if not read:
            raise
        _degraded_until[client] = time.monotonic() + DEGRADED_SECONDS
        log.warning("rate limiting degraded open for reads: Redis unavailable (%s)", type(exc).__name__)
        return None
