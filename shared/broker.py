"""What the broker holds for a job: a task message waiting in a queue, or delivered and unacked.

The sweeper asks this before publishing a job's task again, so a job merely waiting behind a
backlog is not delivered twice. It reads kombu's Redis layout: one list per queue (and per
priority step, ``<queue>\\x06\\x16<step>``), and the ``unacked`` hash (delivery tag → the raw
message) indexed by delivery time in the ``unacked_index`` sorted set; every key carries the
deployment's ``broker_prefix``. If Redis lost its data, it holds nothing, and every job
that should have a message is published again.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import redis

#: kombu's separator between a queue's name and its priority step, and its steps.
PRIORITY_SEP = "\x06\x16"
PRIORITY_STEPS = (0, 3, 6, 9)
CHUNK = 1000


@dataclass(frozen=True)
class BrokerView:
    """Per (task name, job id): whether a message waits in a queue, and when the newest
    unacknowledged one was delivered to a worker (epoch seconds)."""

    waiting: set[tuple[str, str]] = field(default_factory=set)
    delivered: dict[tuple[str, str], float] = field(default_factory=dict)

    def holds(self, task: str, job_id: str, *, delivered_within: float) -> bool:
        """A message waits, or one was delivered less than ``delivered_within`` seconds ago.

        Older deliveries may belong to a worker that died holding them: such a message comes
        back only after the visibility timeout, so it does not count."""
        if (task, job_id) in self.waiting:
            return True
        return self.delivered.get((task, job_id), 0.0) > time.time() - delivered_within


def _job_of(raw: dict[str, Any]) -> tuple[str, str] | None:
    """(task name, first argument) of a raw kombu message carrying a Celery task, else None."""
    headers = raw.get("headers") or {}
    task = headers.get("task")
    if not task:
        return None
    try:
        body = raw["body"]
        if raw.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
    except (KeyError, ValueError, TypeError, IndexError):
        return None
    return (task, args[0]) if args and isinstance(args[0], str) else None


def _decode(raw: bytes | str | None, *, unacked: bool) -> tuple[str, str] | None:
    if raw is None:
        return None
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    return _job_of(message[0] if unacked else message)


def _queue_keys(prefix: str, queues: Iterable[str]) -> list[str]:
    return [f"{prefix}{q}{PRIORITY_SEP}{step}" if step else f"{prefix}{q}"
            for q in queues for step in PRIORITY_STEPS]


def inspect(client: redis.Redis, prefix: str, queues: Iterable[str]) -> BrokerView:
    """The job messages waiting in ``queues`` and those delivered but not yet acknowledged."""
    view = BrokerView()
    for key in _queue_keys(prefix, queues):
        start = 0
        while True:
            chunk = client.lrange(key, start, start + CHUNK - 1)
            view.waiting.update(found for raw in chunk if (found := _decode(raw, unacked=False)))
            if len(chunk) < CHUNK:
                break
            start += CHUNK
    entries = cast(list[tuple[bytes, float]], client.zrange(f"{prefix}unacked_index", 0, -1, withscores=True))
    for i in range(0, len(entries), CHUNK):
        batch = entries[i:i + CHUNK]
        raws = client.hmget(f"{prefix}unacked", [tag for tag, _ in batch])
        for (_, delivered_at), raw in zip(batch, raws, strict=True):
            found = _decode(raw, unacked=True)
            if found:
                view.delivered[found] = max(view.delivered.get(found, 0.0), float(delivered_at))
    return view
