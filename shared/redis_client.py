from __future__ import annotations

from functools import lru_cache

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from shared.settings import get_settings


@lru_cache
def get_redis() -> redis.Redis:
    # Fails fast: callers run on a request's or a worker's time, and Postgres is the source of
    # truth (a lost job event only delays a waiter until its timeout).
    return redis.Redis.from_url(get_settings().require_redis_url(), socket_timeout=3,
                                socket_connect_timeout=3, health_check_interval=30,
                                retry=Retry(NoBackoff(), 1))


def reset_redis() -> None:
    if get_redis.cache_info().currsize:
        get_redis().close()
    get_redis.cache_clear()
