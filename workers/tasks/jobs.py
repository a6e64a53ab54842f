from __future__ import annotations

from celery import shared_task

from shared.queue import CANCEL_UPSTREAM, POLL_JOB, RUN_JOB
from workers import dispatch, upstream


# Limits stay below the broker's visibility timeout (3,600 s), so a running task is never re-delivered.
@shared_task(name=RUN_JOB, acks_late=True, ignore_result=True, time_limit=900, soft_time_limit=840)
def run(job_id: str) -> None:
    dispatch.run(job_id)


@shared_task(name=POLL_JOB, acks_late=True, ignore_result=True, time_limit=600, soft_time_limit=570)
def poll(job_id: str, reschedule: bool = True) -> None:
    upstream.poll(job_id, reschedule=reschedule)


@shared_task(name=CANCEL_UPSTREAM, ignore_result=True, time_limit=60, soft_time_limit=50)
def cancel_upstream(job_id: str) -> None:
    upstream.cancel(job_id)
