from __future__ import annotations

from celery import shared_task

from shared.db.session import session_scope
from shared.queue import DELIVER_WEBHOOK
from shared.webhooks import outbox


@shared_task(name="webhooks.dispatch", ignore_result=True, time_limit=30, soft_time_limit=25)
def dispatch() -> None:
    with session_scope() as session:
        outbox.dispatch_due(session)


@shared_task(name=DELIVER_WEBHOOK, ignore_result=True, acks_late=True, time_limit=60, soft_time_limit=50)
def deliver(event_id: str) -> None:
    with session_scope() as session:
        outbox.attempt(session, event_id)
