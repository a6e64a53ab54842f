from __future__ import annotations

from typing import Any

import redis
from celery import Task, shared_task
from sqlalchemy.exc import OperationalError

from shared.queue import CANCEL_UPSTREAM, POLL_JOB, POLL_TIME_LIMIT, RUN_JOB, SUBMIT_JOB
from workers import dispatch, upstream
from workers.providers.base import UpstreamUnavailable

#: Our own backing services failing mid-task: the task is retried with growing, jittered
#: delays (about 1, 2, 4 … 30 s, some 3 minutes in all) instead of being acknowledged, so a
#: database outage delays jobs by its own length, not by the sweeper's cut-offs.
BACKING_SERVICE_RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError, redis.ConnectionError, redis.TimeoutError),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 10,
}


# Each send of ``jobs.run`` carries its mode's time limits (``shared.jobs.modes``); these are the
# ceiling. Limits stay below the broker's visibility timeout (``shared.queue.visibility_timeout``),
# so a running task is never re-delivered.
@shared_task(name=RUN_JOB, acks_late=True, ignore_result=True, time_limit=900, soft_time_limit=840,
             **BACKING_SERVICE_RETRY)
def run(job_id: str) -> None:
    dispatch.run(job_id)


# A retryable upstream error goes back to the broker with exponential back-off (1, 2 s … at most
# 8 s) and full jitter; the worker slot is free while it waits. After the last try
# ``upstream.submit`` moves on to the next fallback itself.
@shared_task(name=SUBMIT_JOB, bind=True, acks_late=True, ignore_result=True, time_limit=300,
             soft_time_limit=270, autoretry_for=(UpstreamUnavailable,), retry_backoff=1,
             retry_backoff_max=8, retry_jitter=True, max_retries=upstream.SUBMIT_ATTEMPTS - 1)
def submit(self: Task[Any, Any], job_id: str, attempt: int, index: int = 0) -> None:
    retries = self.request.retries
    upstream.submit(job_id, attempt, index, tries=retries + 1, last_try=retries >= upstream.SUBMIT_ATTEMPTS - 1)


@shared_task(name=POLL_JOB, acks_late=True, ignore_result=True, time_limit=POLL_TIME_LIMIT,
             soft_time_limit=POLL_TIME_LIMIT - 30, **BACKING_SERVICE_RETRY)
def poll(job_id: str, reschedule: bool = True) -> None:
    upstream.poll(job_id, reschedule=reschedule)


@shared_task(name=CANCEL_UPSTREAM, ignore_result=True, time_limit=60, soft_time_limit=50)
def cancel_upstream(job_id: str) -> None:
    upstream.cancel(job_id)
