from __future__ import annotations

from celery import shared_task

from shared import idempotency
from shared.db.session import session_scope
from shared.jobs import sweeper
from shared.people import key_usage, plans
from shared.settings import get_settings


@shared_task(name="maintenance.sweep", ignore_result=True, time_limit=60, soft_time_limit=50)
def sweep() -> None:
    with session_scope() as session:
        sweeper.sweep(session, get_settings())


@shared_task(name="maintenance.roll_periods", ignore_result=True, time_limit=120, soft_time_limit=100)
def roll_periods() -> None:
    """Close ended periods into statements and renew the monthly grants."""
    with session_scope() as session:
        plans.renew_due(session)


@shared_task(name="maintenance.flush_key_usage", ignore_result=True, time_limit=60, soft_time_limit=50)
def flush_key_usage() -> None:
    """Write the API keys' ``last_used_at`` stamped in Redis since the last flush."""
    with session_scope() as session:
        key_usage.flush(session)


@shared_task(name="maintenance.purge_idempotency", ignore_result=True, time_limit=120, soft_time_limit=100)
def purge_idempotency() -> None:
    with session_scope() as session:
        idempotency.purge_expired(session)
