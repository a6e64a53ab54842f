"""Job events: what a committed transition announces, and the bus that carries it.

``transition`` runs inside the transaction that changed a job: it serializes the job's public
view once, queues webhook deliveries for the job's subscribed events (rows in the same
transaction) and, after the commit, publishes the job event that wakes waiting requests.

The bus: workers announce job changes, API processes wake their waiters.

After each job state or progress commit, the committer publishes a small JSON message
on the Redis channel ``atelier:job-events``::

    {"job_id": "job_…", "status": "running", "progress": 40, "ts": 1790000000.123}

Postgres stays the source of truth: an event only says "look again". A lost event
(Redis down, reconnect gap) delays a waiter until its own timeout, nothing worse, so
publishing never fails the caller.

Each API process listens with one ``JobEventHub`` (``shared/jobs/hub.py``).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.orm import Session

from shared import metrics
from shared.db.models import Job
from shared.db.session import after_commit
from shared.redis_client import get_redis
from shared.settings import get_settings
from shared.views import job_view
from shared.webhooks import outbox

CHANNEL = "atelier:job-events"

log = logging.getLogger(__name__)


def publisher_client(redis_url: str) -> redis.Redis:
    """A sync client suited to ``publish_job_event``: it gives up quickly when Redis is
    down, because publishing runs after a commit, on a worker's or a request's time."""
    return redis.Redis.from_url(
        redis_url,
        socket_connect_timeout=2,
        socket_timeout=2,
        retry=Retry(NoBackoff(), 1),
    )


def publish_job_event(
    client: redis.Redis, job_id: str, status: str, progress: float | int, *, channel: str = CHANNEL,
    job: dict[str, Any] | None = None,
) -> None:
    """Announce a committed change of a job. Redis errors are logged, never raised.

    ``job``, the public view of the job as committed, lets waiters answer without reading the
    database again. ``client`` should fail fast (see ``publisher_client``); redis-py's
    defaults retry for seconds before giving up.
    """
    event: dict[str, Any] = {"job_id": job_id, "status": status, "progress": progress, "ts": time.time()}
    if job is not None:
        event["job"] = job
    message = json.dumps(event)
    try:
        client.publish(channel, message)
    except redis.RedisError as exc:
        log.warning("job event for %s (%s) not published: %s", job_id, status, exc)


def publish_event(job_id: str, status: str, progress: int, view: dict[str, Any] | None = None) -> None:
    publish_job_event(get_redis(), job_id, status, progress, job=view)


def _committed(view: dict[str, Any]) -> None:
    metrics.job_transition(view)
    publish_event(view["id"], view["status"], view["progress"], view)


def created(session: Session, job: Job) -> None:
    """A new job, counted once committed. No job event (and no webhook: ``job.queued`` is not
    one): long polls and streams wait on a job by its id, which nobody has before the creating
    request answers, so the event would reach no one, and building and publishing the job's view
    for it was about a tenth of a ``POST /v1/jobs``'s CPU."""
    after_commit(session, lambda: metrics.job_created(job.mode, job.provider, job.estimated_credits))


def transition(session: Session, job: Job) -> None:
    """Announce the job's new state: webhook rows now, the job event after the commit."""
    # Serialized once, inside the transaction: the event and the webhook carry the same view.
    view = job_view(job, get_settings().base_url)
    after_commit(session, lambda: _committed(view))
    event_type = f"job.{job.status}"
    if job.webhook_url and event_type in (job.webhook_events or []):
        outbox.enqueue_event(session, job, event_type, view)
