"""What happens after a job transition commits: a job event for waiting requests, and
webhook deliveries for the job's subscribed events (rows written in the same transaction)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shared.db.models import Job
from shared.db.session import after_commit
from shared.events import publish_job_event
from shared.redis_client import get_redis
from shared.webhooks import outbox


def publish_event(job_id: str, status: str, progress: int) -> None:
    publish_job_event(get_redis(), job_id, status, progress)


def transition(session: Session, job: Job) -> None:
    job_id, status, progress = job.id, job.status, job.progress
    after_commit(session, lambda: publish_event(job_id, status, progress))
    event_type = f"job.{status}"
    if job.webhook_url and event_type in (job.webhook_events or []):
        outbox.enqueue_event(session, job, event_type)
