"""The Celery application: queues, reliability settings, the beat schedule."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.signals import (
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
)

from shared.queue import MAINTENANCE, QUEUES, WEBHOOKS, celery_config
from shared.settings import get_settings

app = Celery("atelier", include=["workers.tasks.jobs", "workers.tasks.maintenance", "workers.tasks.webhooks"])
app.conf.update(celery_config())
app.conf.update(
    # A task is acknowledged only when it finished; a worker lost mid-task leaves it to be
    # redelivered. Tasks are safe to run twice (jobs are claimed with a conditional update).
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue=QUEUES[0],
    worker_hijack_root_logger=False,
    worker_send_task_events=True,
    task_send_sent_event=True,
    beat_schedule={
        "sweep-jobs": {"task": "maintenance.sweep", "schedule": get_settings().sweep_interval_seconds,
                       "options": {"queue": MAINTENANCE, "expires": get_settings().sweep_interval_seconds}},
        "roll-periods": {"task": "maintenance.roll_periods", "schedule": 300.0,
                         "options": {"queue": MAINTENANCE}},
        "flush-key-usage": {"task": "maintenance.flush_key_usage", "schedule": 60.0,
                            "options": {"queue": MAINTENANCE, "expires": 60}},
        "purge-idempotency": {"task": "maintenance.purge_idempotency", "schedule": 600.0,
                              "options": {"queue": MAINTENANCE}},
        # First attempts and retries due within a minute are sent directly (outbox.attempt); the
        # dispatcher only picks up later retries and lost sends, so every 30 s is enough.
        "dispatch-webhooks": {"task": "webhooks.dispatch", "schedule": 30.0, "options": {"queue": WEBHOOKS,
                                                                                         "expires": 25}},
    },
)


@worker_process_init.connect
def _fresh_connections(**_: object) -> None:
    """Forked pool processes must not share the parent's database or Redis sockets; each new
    one (also the replacement of a killed one) removes the scratch directories killed jobs left."""
    from shared.db.session import reset_engine
    from shared.redis_client import reset_redis

    reset_engine()
    reset_redis()
    from workers.scratch import clean_stale

    clean_stale()


@worker_init.connect
def _serve_metrics(**_: object) -> None:
    """One metrics server per worker node (its pool processes write to PROMETHEUS_MULTIPROC_DIR)."""
    from shared.metrics import serve_node_metrics
    from shared.settings import get_settings

    settings = get_settings()
    if settings.worker_metrics_port:
        serve_node_metrics(settings.worker_metrics_port, settings.worker_metrics_address)


@worker_process_shutdown.connect
def _pool_process_gone(pid: int | None = None, **_: object) -> None:
    import os

    from shared.metrics import process_exited

    process_exited(pid or os.getpid())


@setup_logging.connect
def _logging(**_: object) -> None:
    """Our JSON (or text) logs instead of Celery's own setup, in workers and beat alike."""
    from shared import logs
    from shared.settings import get_settings

    settings = get_settings()
    logs.configure(settings.log_format, settings.log_level)


@task_prerun.connect
def _task_log_context(task_id: str | None = None, task: Any = None, args: Any = None, **_: object) -> None:
    """The ids the publisher carried in the task's header, plus this task's id (and its job's)."""
    from shared import logs
    from shared.queue import JOB_TASKS

    carried = getattr(task.request, logs.HEADER, None) if task is not None else None
    ids = dict(carried) if isinstance(carried, dict) else {}
    if task is not None and task.name in JOB_TASKS and args:
        ids["job_id"] = str(args[0])
    # This task's own id, not the sending task's (a task sent from a task carries its sender's).
    logs.enter(**{**ids, "task_id": task_id})
    if task is not None:
        logging.getLogger("atelier.tasks").info("task %s started", task.name, extra={"task": task.name})


@task_postrun.connect
def _task_log_context_end(task: Any = None, state: str | None = None, **_: object) -> None:
    from shared import logs

    if task is not None:
        logging.getLogger("atelier.tasks").info("task %s %s", task.name, (state or "done").lower(),
                                                extra={"task": task.name, "state": state})
    logs.enter()
