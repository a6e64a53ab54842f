"""Login and sign-up throttling in Redis: logins per email and per client address, sign-ups
per client address.

Every attempt is counted before the work it guards (INCR is atomic, so a burst cannot slip
past the limit); a successful login takes its attempts back, a sign-up's attempt stays counted.
"""

from __future__ import annotations

import hashlib

from shared.errors import RateLimited
from shared.redis_client import get_redis
from shared.settings import get_settings


def _keys(email: str, ip: str | None) -> list[tuple[str, int]]:
    settings = get_settings()
    prefix = f"{settings.broker_prefix}atelier:login:"
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]  # no addresses in Redis key names
    found = [(f"{prefix}email:{digest}", settings.login_failures_per_email)]
    if ip:
        found.append((f"{prefix}ip:{ip}", settings.login_failures_per_address))
    return found


def _count(keys: list[tuple[str, int]], window: int, what: str) -> None:
    """Count one attempt on each key; raise 429 naming the first key whose count passed its limit."""
    pipe = get_redis().pipeline()
    for name, _ in keys:
        pipe.set(name, 0, nx=True, ex=window)  # opens the window (no EXPIRE NX on Redis 6)
        pipe.incr(name)
        pipe.ttl(name)
    replies = pipe.execute()
    for i, (name, limit) in enumerate(keys):
        count, ttl = int(replies[3 * i + 1]), int(replies[3 * i + 2])
        if count > limit:
            retry_after = max(1, ttl)
            scope = "email" if ":email:" in name else "address"
            raise RateLimited(
                f"Too many {what} for this {scope}; try again in {retry_after} s.",
                details={"limit": limit, "window": f"{window}s", "retry_after": retry_after},
                headers={"Retry-After": str(retry_after)},
            )


def attempt(email: str, ip: str | None) -> None:
    """Count a login attempt; raise 429 once the failures in the window reach either limit."""
    _count(_keys(email, ip), get_settings().login_failure_window_seconds, "failed logins")


def signup_attempt(ip: str | None) -> None:
    """Count a sign-up attempt from ``ip``; raise 429 once the address's sign-ups in the window
    pass the limit. Without a known address there is nothing to count by."""
    if not ip:
        return
    settings = get_settings()
    name = f"{settings.broker_prefix}atelier:signup:ip:{ip}"
    _count([(name, settings.signups_per_address)], settings.signup_window_seconds, "sign-ups")


def succeeded(email: str, ip: str | None) -> None:
    """A correct password clears the email's failures and takes this attempt back from the address."""
    keys = _keys(email, ip)
    pipe = get_redis().pipeline()
    pipe.delete(keys[0][0])
    if len(keys) > 1:
        pipe.decr(keys[1][0])
    pipe.execute()
