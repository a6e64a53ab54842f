"""Each test of the bus uses a channel of its own, so hubs of other tests (or of an API started
elsewhere on the same server) cannot disturb it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from shared.jobs.events import CHANNEL


@pytest.fixture
def channel() -> str:
    return f"{CHANNEL}:test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    yield client
    client.close()
