"""Webhook deliveries as rows in Postgres.

A job transition writes a ``WebhookEvent`` in its own transaction and, after the commit,
sends ``webhooks.deliver`` for it at once. Retries are *not* Celery countdowns (on a Redis
broker a countdown beyond the visibility timeout is delivered again and again): the event
row carries ``next_attempt_at``, and the beat-driven dispatcher hands due events to the
``webhooks`` queue, picking them with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared import metrics, queue
from shared.accounts import signing_secrets
from shared.db.models import Account, Job, WebhookAttempt, WebhookEvent
from shared.errors import NotFound
from shared.ids import new_id
from shared.settings import get_settings
from shared.views import iso
from shared.webhooks.schedule import MAX_ATTEMPTS, next_attempt_delay
from shared.webhooks.sender import deliver as send_request
from shared.webhooks.signing import sign_headers

log = logging.getLogger(__name__)

#: A dispatched event not attempted within this long (lost task) is dispatched again.
DISPATCH_LEASE = timedelta(seconds=60)
#: Retries due sooner than this are sent now with a countdown, at their exact time; later ones are
#: left to the beat dispatcher (every 30 s, so it does not flood Flower's task list).
SCHEDULE_DIRECTLY = timedelta(seconds=60)
BATCH = 100


def enqueue_event(session: Session, job: Job, event_type: str, view: dict[str, Any]) -> WebhookEvent:
    assert job.webhook_url is not None
    return enqueue(session, job.account_id, job.webhook_url, event_type, view, job_id=job.id)


def enqueue(session: Session, account_id: str, url: str, event_type: str, data: dict[str, Any], *,
            job_id: str | None = None) -> WebhookEvent:
    """Queue one signed delivery of ``data`` to ``url`` (a job's, or an account's alert URL)."""
    now = datetime.now(UTC)
    event_id = new_id("evt")
    event = WebhookEvent(
        id=event_id, job_id=job_id, account_id=account_id, event_type=event_type, url=url,
        payload={"id": event_id, "type": event_type, "created_at": iso(now),
                 "data": data},
        status="pending", attempts=0, schedule_offset=0, next_attempt_at=now, dispatched_at=now,
    )
    session.add(event)
    session.flush()
    queue.send_after_commit(session, queue.DELIVER_WEBHOOK, [event_id], queue.WEBHOOKS)
    return event


def dispatch_due(session: Session, now: datetime | None = None) -> list[str]:
    """Hand due events to the webhooks queue (after this transaction commits)."""
    now = now or datetime.now(UTC)
    due = session.scalars(
        select(WebhookEvent)
        .where(WebhookEvent.status == "pending", WebhookEvent.next_attempt_at <= now,
               or_(WebhookEvent.dispatched_at.is_(None), WebhookEvent.dispatched_at < now - DISPATCH_LEASE))
        .order_by(WebhookEvent.next_attempt_at)
        .with_for_update(skip_locked=True)
        .limit(BATCH)
    ).all()
    for event in due:
        event.dispatched_at = now
        queue.send_after_commit(session, queue.DELIVER_WEBHOOK, [event.id], queue.WEBHOOKS)
    session.flush()
    return [e.id for e in due]


def attempt(session: Session, event_id: str, now: datetime | None = None) -> WebhookAttempt | None:
    """Make one delivery attempt if the event is due and no other worker is on it."""
    now = now or datetime.now(UTC)
    event = session.scalars(
        select(WebhookEvent).where(WebhookEvent.id == event_id, WebhookEvent.status == "pending",
                                   WebhookEvent.next_attempt_at <= now)
        .with_for_update(skip_locked=True)
    ).one_or_none()
    if event is None:
        return None
    account = session.get(Account, event.account_id)
    assert account is not None
    settings = get_settings()
    body = json.dumps(event.payload, separators=(",", ":")).encode()
    headers = sign_headers(signing_secrets(account, now), event.id, now, body)
    result = send_request(event.url, body, headers, allow_private=settings.webhook_allow_private,
                          timeout=settings.webhook_timeout_seconds)
    event.attempts += 1
    event.dispatched_at = None
    metrics.webhook_attempt(result.outcome)
    if result.outcome == "delivered":
        event.status, event.next_attempt_at = "delivered", None
    elif result.outcome == "gone":
        event.status, event.next_attempt_at = "gone", None
    else:
        delay = next_attempt_delay(event.attempts - event.schedule_offset)
        if delay is None:
            event.status, event.next_attempt_at = "exhausted", None
        else:
            event.next_attempt_at = datetime.now(UTC) + delay
            if delay <= SCHEDULE_DIRECTLY:
                event.dispatched_at = event.next_attempt_at  # the dispatcher leaves it alone until then + lease
                queue.send_after_commit(session, queue.DELIVER_WEBHOOK, [event.id], queue.WEBHOOKS,
                                        countdown=delay.total_seconds())
    record = WebhookAttempt(id=new_id("wha"), event_id=event.id, attempt=event.attempts,
                            status_code=result.status_code, latency_ms=result.latency_ms, error=result.error,
                            attempted_at=now, next_attempt_at=event.next_attempt_at)
    session.add(record)
    session.flush()
    log.info("webhook %s attempt %d: %s (%s)", event.id, event.attempts, result.outcome,
             result.status_code or result.error)
    return record


def deliveries_for(session: Session, job_id: str) -> Sequence[tuple[WebhookAttempt, WebhookEvent]]:
    return session.execute(
        select(WebhookAttempt, WebhookEvent).join(WebhookEvent, WebhookEvent.id == WebhookAttempt.event_id)
        .where(WebhookEvent.job_id == job_id)
        .order_by(WebhookAttempt.attempted_at.desc(), WebhookAttempt.attempt.desc())
    ).tuples().all()


def delivery_view(row: tuple[WebhookAttempt, WebhookEvent]) -> dict[str, Any]:
    attempt_row, event = row
    return {"id": attempt_row.id, "object": "webhook_delivery", "event_type": event.event_type,
            "webhook_id": event.id, "attempt": attempt_row.attempt, "status_code": attempt_row.status_code,
            "latency_ms": attempt_row.latency_ms, "error": attempt_row.error,
            "attempted_at": iso(attempt_row.attempted_at), "next_attempt_at": iso(attempt_row.next_attempt_at)}


def redeliver_last(session: Session, job: Job) -> dict[str, Any]:
    """Send the job's last event again (same webhook-id), with a fresh retry schedule."""
    event = session.scalars(
        select(WebhookEvent).where(WebhookEvent.job_id == job.id)
        .order_by(WebhookEvent.created_at.desc()).limit(1).with_for_update()
    ).one_or_none()
    if event is None:
        raise NotFound(f"Job {job.id} has no webhook events to redeliver.")
    now = datetime.now(UTC)
    event.status, event.next_attempt_at, event.dispatched_at = "pending", now, now
    event.schedule_offset = event.attempts
    session.flush()
    queue.send_after_commit(session, queue.DELIVER_WEBHOOK, [event.id], queue.WEBHOOKS)
    return {"object": "webhook_event", "webhook_id": event.id, "event_type": event.event_type,
            "status": event.status, "attempts": event.attempts, "next_attempt_at": iso(now)}


__all__ = ["MAX_ATTEMPTS", "attempt", "deliveries_for", "delivery_view", "dispatch_due", "enqueue", "enqueue_event",
           "redeliver_last"]
