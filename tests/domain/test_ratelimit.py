"""The per-key limiter on the real Redis: one script call per hit, counted per fixed minute."""

from __future__ import annotations

import uuid

import redis

from shared import ratelimit


def test_hits_count_per_window_and_the_window_key_expires(redis_url):
    client = redis.Redis.from_url(redis_url)
    key_id, now = f"test-{uuid.uuid4().hex}", 1_800_000_010.0  # 10 s into a window
    try:
        states = [ratelimit.hit(client, key_id, 3, now=now + i) for i in range(4)]
        assert [s.remaining for s in states] == [2, 1, 0, 0]
        assert [s.allowed for s in states] == [True, True, True, False]
        assert {s.reset_at for s in states} == {1_800_000_060}
        name = f"atelier:rl:{key_id}:{int(now // ratelimit.WINDOW_SECONDS)}"
        assert int(client.get(name)) == 4
        assert 0 < client.ttl(name) <= ratelimit.WINDOW_SECONDS + 5
        # The next window starts from zero.
        assert ratelimit.hit(client, key_id, 3, now=now + 60).remaining == 2
    finally:
        for name in client.scan_iter(match=f"atelier:rl:{key_id}:*"):
            client.delete(name)
        client.close()

