"""The sweeper publishes a job's task again only when the broker really holds no message for it.

Messages go to a broker key prefix of this test's own, which no worker consumes: a backlog
that stays put.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from celery import Celery
from kombu import Connection

from shared import queue
from shared.jobs import sweeper
from shared.settings import Settings, get_settings
from tests.domain.test_sweeper import IMAGE, VIDEO, new_job, run_sweep, sends_for, set_job, stale


@pytest.fixture
def private(stack_env) -> Iterator[Settings]:
    """Settings whose broker prefix is this test's own; every key under it is removed afterwards."""
    settings = get_settings().model_copy(update={"broker_prefix": f"atelier-sweep-{uuid.uuid4().hex[:8]}:"})
    yield settings
    client = redis.Redis.from_url(settings.require_redis_url())
    for key in client.scan_iter(match=settings.broker_prefix + "*"):
        client.delete(key)
    client.close()


def producer(settings: Settings) -> Celery:
    app = Celery("sweeper-test")
    app.conf.update(broker_url=settings.redis_url,
                    broker_transport_options={"global_keyprefix": settings.broker_prefix})
    return app


def publish(settings: Settings, name: str, job_ids: list[str], q: str) -> None:
    with producer(settings) as app:
        for job_id in job_ids:
            app.send_task(name, args=[job_id], queue=q)


def take_unacked(settings: Settings, q: str, count: int, delivered_ago: float = 0.0) -> None:
    """Deliver ``count`` messages of ``q`` to a consumer that never acknowledges them (a worker
    busy with them, or one that died holding them ``delivered_ago`` seconds ago)."""
    with Connection(settings.redis_url, transport_options={"global_keyprefix": settings.broker_prefix}) as conn:
        simple = conn.SimpleQueue(q)
        for _ in range(count):
            simple.get(timeout=5)  # not acked: stays in the `unacked` hash
        simple.channel.qos._delivered.clear()  # don't let close() restore them
    if delivered_ago:
        client = redis.Redis.from_url(settings.require_redis_url())
        index = f"{settings.broker_prefix}unacked_index"
        client.zadd(index, {tag: time.time() - delivered_ago for tag in client.zrange(index, 0, -1)})
        client.close()


def test_a_backlog_of_thirty_is_left_in_line(private, sent, account):
    jobs = [new_job(account, IMAGE) for _ in range(30)]
    publish(private, queue.RUN_JOB, jobs, queue.FAST)
    sent.clear()
    for job_id in jobs:
        set_job(job_id, updated_at=stale(private.requeue_after_seconds))

    counts = run_sweep(private)

    assert [s for s in sent if s[1][0] in jobs] == []
    assert counts["in_line"] >= 30 and counts["republished"] == 0


def test_only_the_job_whose_message_is_gone_is_published_again(private, sent, account):
    kept, lost = new_job(account, VIDEO), new_job(account, VIDEO)
    publish(private, queue.RUN_JOB, [kept], queue.SLOW)
    sent.clear()
    for job_id in (kept, lost):
        set_job(job_id, updated_at=stale(private.requeue_after_seconds))

    run_sweep(private)

    assert sends_for(sent, kept) == [] and sends_for(sent, lost) == [("jobs.run", queue.SLOW)]


def test_a_message_a_worker_holds_counts_until_it_is_older_than_the_cutoff(private, sent, account):
    busy, dead = new_job(account, IMAGE), new_job(account, IMAGE)
    publish(private, queue.RUN_JOB, [dead], queue.FAST)
    take_unacked(private, queue.FAST, 1, delivered_ago=private.requeue_after_seconds + 5)
    publish(private, queue.RUN_JOB, [busy], queue.FAST)
    take_unacked(private, queue.FAST, 1)
    sent.clear()
    for job_id in (busy, dead):
        set_job(job_id, updated_at=stale(private.requeue_after_seconds))

    run_sweep(private)

    assert sends_for(sent, busy) == [] and sends_for(sent, dead) == [("jobs.run", queue.FAST)]


def test_a_lost_running_job_with_its_redelivered_message_in_line_is_not_requeued(private, sent, account):
    waiting, lost = new_job(account, IMAGE), new_job(account, IMAGE)
    publish(private, queue.RUN_JOB, [waiting], queue.FAST)
    sent.clear()
    for job_id in (waiting, lost):
        set_job(job_id, status="running", attempts=1, updated_at=stale(private.heartbeat_timeout_seconds))

    run_sweep(private)

    assert sends_for(sent, waiting) == [] and sends_for(sent, lost) == [("jobs.run", queue.FAST)]


def test_a_stale_upstream_job_with_a_poll_on_its_way_is_not_polled_twice(private, sent, account):
    pending, lost = new_job(account, VIDEO), new_job(account, VIDEO)
    publish(private, queue.POLL_JOB, [pending], queue.SLOW)
    sent.clear()
    for job_id in (pending, lost):
        set_job(job_id, status="running", attempts=1, upstream={"state": "submitted", "provider": "fal",
                                                                  "request_id": "r"},
                updated_at=stale(private.heartbeat_timeout_seconds))

    run_sweep(private)

    assert sends_for(sent, pending) == [] and sends_for(sent, lost) == [("jobs.poll", queue.SLOW)]


def test_the_broker_view_reads_every_priority_list(private):
    client = redis.Redis.from_url(private.require_redis_url())
    with producer(private) as app:
        app.send_task(queue.RUN_JOB, args=["job_a"], queue=queue.FAST, priority=6)
    view = sweeper.broker_view(private)
    client.close()
    assert (queue.RUN_JOB, "job_a") in view.waiting
