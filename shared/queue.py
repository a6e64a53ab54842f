"""Publishing Celery tasks from domain code, by name, after the transaction commits.

The API process never imports the worker's task modules: it only needs a producer that
knows the broker. Every send names its queue.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from celery import Celery
from sqlalchemy.orm import Session

from shared import logs
from shared.db.session import after_commit
from shared.settings import Settings, get_settings

FAST, SLOW, WEBHOOKS, MAINTENANCE = "media.fast", "media.slow", "webhooks", "maintenance"
QUEUES = (FAST, SLOW, WEBHOOKS, MAINTENANCE)

#: Task names: the API and domain publish by name and never import the worker's modules.
RUN_JOB = "jobs.run"
SUBMIT_JOB = "jobs.submit"
POLL_JOB = "jobs.poll"
CANCEL_UPSTREAM = "jobs.cancel_upstream"
#: Tasks whose first argument is a job id (the worker binds it to every log line of the task).
JOB_TASKS = frozenset({RUN_JOB, POLL_JOB, CANCEL_UPSTREAM})
DELIVER_WEBHOOK = "webhooks.deliver"


#: Hard time limits of the tasks that are not ``jobs.run`` (whose limit is per mode).
POLL_TIME_LIMIT = 600
#: What a message may stay unacknowledged beyond the longest task limit before redelivery.
VISIBILITY_MARGIN_SECONDS = 60


def visibility_timeout(settings: Settings) -> float:
    """A message delivered to a worker and not acknowledged within this time is delivered again.

    Just longer than the longest hard time limit of any task (per mode, with
    ``ATELIER_JOB_TIME_LIMITS``), so a running task is never delivered twice, while a message
    held by a worker that died comes back soon after (the sweeper republishes sooner still)."""
    from shared.jobs.modes import MODES  # the registry imports this module's queue names

    longest = max(POLL_TIME_LIMIT, *(spec.time_limits(settings)[1] for spec in MODES.values()))
    return longest + VISIBILITY_MARGIN_SECONDS


def celery_config() -> dict[str, Any]:
    """Broker settings shared by the producer (API) and the worker app."""
    settings = get_settings()
    transport: dict[str, Any] = {"visibility_timeout": visibility_timeout(settings)}
    if settings.broker_prefix:
        transport["global_keyprefix"] = settings.broker_prefix
    return {
        "broker_url": settings.require_redis_url(),
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": transport,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "broker_connection_timeout": 5,
    }


@lru_cache
def producer() -> Celery:
    app = Celery("atelier-producer")
    app.conf.update(celery_config())
    return app


def reset_producer() -> None:
    producer.cache_clear()


def send(name: str, args: list[Any], queue: str, *, countdown: float | None = None,
         kwargs: dict[str, Any] | None = None, time_limits: tuple[float, float] | None = None) -> None:
    """Publish a task; ``time_limits`` (soft, hard) override the task's own for this run."""
    soft, hard = time_limits or (None, None)
    producer().send_task(name, args=args, kwargs=kwargs, queue=queue, countdown=countdown,
                         soft_time_limit=soft, time_limit=hard, headers={logs.HEADER: logs.current()})


def send_after_commit(session: Session, name: str, args: list[Any], queue: str,
                      *, countdown: float | None = None, time_limits: tuple[float, float] | None = None) -> None:
    after_commit(session, lambda: send(name, args, queue, countdown=countdown, time_limits=time_limits))
