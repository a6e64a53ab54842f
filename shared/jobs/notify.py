"""What happens after a job transition commits: a job event for waiting requests, and
webhook deliveries for the job's subscribed events (rows written in the same transaction)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shared.db.models import Job
from shared.db.session import after_commit
from shared.events import publish_job_event
from shared.redis_client import get_redis
from shared.settings import get_settings
from shared.views import job_view
from shared.webhooks import outbox


def publish_event(job_id: str, status: str, progress: int, view: dict[str, Any] | None = None) -> None:
    publish_job_event(get_redis(), job_id, status, progress, job=view)


def transition(session: Session, job: Job) -> None:
    # Serialized once, inside the transaction: the event and the webhook carry the same view.
    view = job_view(job, get_settings().base_url)
    after_commit(session, lambda: publish_event(view["id"], view["status"], view["progress"], view))
    event_type = f"job.{job.status}"
    if job.webhook_url and event_type in (job.webhook_events or []):
        outbox.enqueue_event(session, job, event_type, view)
