"""``api_keys.last_used_at`` without a database write per request.

A request stamps the key in Redis at most once a minute (``SET NX EX``) into one hash; the
beat task (and a key listing, lazily) moves the hash into Postgres in one UPDATE. Each process
also remembers when it last stamped a key, so the requests of the minute after cost no Redis
round trip at all.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import redis
from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from shared.db.models import ApiKey
from shared.redis_client import get_redis
from shared.settings import get_settings

GATE_SECONDS = 60


def _names() -> tuple[str, str]:
    prefix = get_settings().broker_prefix
    return f"{prefix}atelier:key-used", f"{prefix}atelier:key-used-gate:"


#: key id → ``time.monotonic()`` until which this process does not stamp the key again.
_stamped: dict[str, float] = {}
_FORGET_ABOVE = 10_000  # entries before the expired ones are dropped


def touch(key_id: str, now: float | None = None) -> None:
    clock = time.monotonic()
    if _stamped.get(key_id, 0.0) > clock:
        return
    stamp = time.time() if now is None else now
    pending, gate = _names()
    client = get_redis()
    try:
        if client.set(gate + key_id, "1", nx=True, ex=GATE_SECONDS):
            client.hset(pending, key_id, f"{stamp:.3f}")
    except redis.RedisError:  # a usage stamp is not worth failing a request over (Redis down)
        return
    if len(_stamped) >= _FORGET_ABOVE:
        for known in [k for k, until in _stamped.items() if until <= clock]:
            del _stamped[known]
    _stamped[key_id] = clock + GATE_SECONDS


def flush(session: Session) -> int:
    """Write the stamped keys' ``last_used_at``; returns how many keys were updated."""
    pending, _ = _names()
    client = get_redis()
    claimed = f"{pending}:flushing:{time.time_ns()}"
    try:
        client.rename(pending, claimed)  # atomic hand-over: stamps arriving now go to a fresh hash
    except redis.ResponseError:  # no such key: no key was used since the last flush
        return 0
    stamps: dict[bytes, bytes] = client.hgetall(claimed)  # type: ignore[assignment]
    client.delete(claimed)
    rows = [{"key_id": k.decode(), "used": datetime.fromtimestamp(float(v), UTC)} for k, v in stamps.items()]
    if rows:
        stmt = (update(ApiKey).where(ApiKey.id == bindparam("key_id"))
                .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < bindparam("used")))
                .values(last_used_at=bindparam("used")))
        session.connection().execute(stmt, rows)
    return len(rows)
