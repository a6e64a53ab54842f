"""Prometheus metrics for jobs, queues, credits, webhooks and upstream calls.

Each process counts what happens in it: the API counts the jobs it creates (and cancels while
queued); workers count the jobs they run, their webhooks and their upstream calls. Dashboards
sum over the ``atelier-api`` and ``atelier-worker`` scrape jobs. Queue depth and the webhook
backlog are read from Redis and PostgreSQL when the API's ``/metrics`` is scraped, so they
exist once however many workers run.

Worker nodes run prefork pools: ``atelier worker`` sets ``PROMETHEUS_MULTIPROC_DIR`` before
anything imports prometheus_client, every pool process writes its own files there, and one
HTTP server per node (``ATELIER_WORKER_METRICS_PORT``) serves them merged by
``MultiProcessCollector``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

log = logging.getLogger("atelier.metrics")

_SECONDS = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800)

JOBS = Counter("atelier_jobs", "Jobs entering a status (queued = created)", ["mode", "provider", "status"])
JOB_RUN = Histogram("atelier_job_run_seconds", "Running to terminal, per job", ["mode"], buckets=_SECONDS)
JOB_WAIT = Histogram("atelier_job_wait_seconds", "Queued to running, per job", ["mode"], buckets=_SECONDS)
CREDITS_HELD = Counter("atelier_credits_held", "Credits held when jobs are created", ["mode"])
CREDITS_CHARGED = Counter("atelier_credits_charged", "Credits charged when jobs complete", ["mode"])
WEBHOOK_ATTEMPTS = Counter("atelier_webhook_attempts", "Webhook delivery attempts", ["outcome"])
UPSTREAM_CALLS = Counter("atelier_upstream_calls", "Requests to upstream providers", ["provider", "outcome"])


def _seconds(start: Any, end: Any) -> float | None:
    if not (start and end):
        return None
    parse = datetime.fromisoformat
    return max(0.0, (parse(str(end).replace("Z", "+00:00")) - parse(str(start).replace("Z", "+00:00")))
               .total_seconds())


def job_created(mode: str, provider: str, estimated_credits: int) -> None:
    """Count a committed new job and its hold."""
    JOBS.labels(mode, provider, "queued").inc()
    CREDITS_HELD.labels(mode).inc(estimated_credits)


def job_transition(view: dict[str, Any]) -> None:
    """Count a committed job transition from its public view (no database read)."""
    mode, status = view["mode"], view["status"]
    if status == "queued":
        return  # requeued by the sweeper: neither a new job nor a new hold (a new job: ``job_created``)
    JOBS.labels(mode, view.get("provider") or "", status).inc()
    if status == "running":
        wait = _seconds(view.get("created_at"), view.get("started_at"))
        if wait is not None:
            JOB_WAIT.labels(mode).observe(wait)
    else:
        run = _seconds(view.get("started_at"), view.get("completed_at"))
        if run is not None:
            JOB_RUN.labels(mode).observe(run)
        if status == "completed":
            CREDITS_CHARGED.labels(mode).inc(view.get("credits_charged") or 0)


def upstream_call(provider: str, status_code: int | None) -> None:
    UPSTREAM_CALLS.labels(provider, f"{status_code // 100}xx" if status_code else "error").inc()


def webhook_attempt(outcome: str) -> None:
    WEBHOOK_ATTEMPTS.labels(outcome).inc()


# -- sampled on scrape (API) -----------------------------------------------------------------

class QueueDepth(Collector):
    """``atelier_queue_depth{queue}``: tasks waiting in each broker list, read from Redis on scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from shared.queue import QUEUES
        from shared.redis_client import get_redis
        from shared.settings import get_settings

        family = GaugeMetricFamily("atelier_queue_depth", "Tasks waiting in a broker queue", labels=["queue"])
        prefix = get_settings().broker_prefix
        try:
            pipe = get_redis().pipeline()
            for queue in QUEUES:
                pipe.llen(prefix + queue)
            for queue, depth in zip(QUEUES, pipe.execute(), strict=True):
                family.add_metric([queue], float(depth))
        except Exception as exc:  # a scrape reports what it can; the broker's absence shows in /readyz
            log.warning("queue depth not sampled: %s", type(exc).__name__)
        yield family


class WebhookBacklog(Collector):
    """``atelier_webhook_backlog{state}``: pending webhook events already due, and scheduled for later."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from sqlalchemy import case, func, select

        from shared.db.models import WebhookEvent
        from shared.db.session import session_scope

        family = GaugeMetricFamily("atelier_webhook_backlog", "Pending webhook events", labels=["state"])
        due = case((WebhookEvent.next_attempt_at <= func.now(), 1), else_=0)
        try:
            with session_scope() as session:
                row = session.execute(select(func.count(), func.coalesce(func.sum(due), 0))
                                      .where(WebhookEvent.status == "pending")).one()
            family.add_metric(["due"], float(row[1]))
            family.add_metric(["scheduled"], float(row[0] - row[1]))
        except Exception as exc:
            log.warning("webhook backlog not sampled: %s", type(exc).__name__)
        yield family


_registered: set[str] = set()


def register_api_collectors(waiters: Callable[[], int]) -> Callable[[], None]:
    """Queue depth and webhook backlog (once per process), and a server's waiting long polls/SSE
    streams, summed over every server in the process; returns the server's un-registration."""
    _WAITER_SOURCES.append(waiters)
    if "api" not in _registered:
        _registered.add("api")
        REGISTRY.register(QueueDepth())
        REGISTRY.register(WebhookBacklog())
        Gauge("atelier_event_waiters", "Long polls and SSE streams waiting on job events in this process"
              ).set_function(lambda: float(sum(source() for source in _WAITER_SOURCES)))
    return lambda: _WAITER_SOURCES.remove(waiters)


_WAITER_SOURCES: list[Callable[[], int]] = []


# -- worker nodes (prefork) ------------------------------------------------------------------

def serve_node_metrics(port: int, address: str = "0.0.0.0") -> None:
    """One HTTP server per worker node, merging every pool process's files."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr=address, registry=registry)
    log.info("worker metrics on http://%s:%d/metrics", address, port)


def process_exited(pid: int) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)
