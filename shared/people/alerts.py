"""Credit alerts: an ``account.credits_threshold`` webhook once per threshold per period, when the
credits used in the period reach that share of the monthly grant."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shared.db.models import Account
from shared.errors import ValidationError
from shared.people import audit
from shared.views import iso
from shared.webhooks import outbox
from shared.webhooks.addresses import validate_webhook_url

EVENT = "account.credits_threshold"
MAX_THRESHOLDS = 10


def configure(session: Session, account: Account, webhook_url: str | None, thresholds: list[int],
              ctx: audit.Context, *, allow_private: bool) -> Account:
    if webhook_url is not None:
        validate_webhook_url(webhook_url, allow_private=allow_private)
    cleaned = sorted(set(thresholds))
    if len(cleaned) > MAX_THRESHOLDS:
        raise ValidationError.field("thresholds_percent", f"at most {MAX_THRESHOLDS} thresholds")
    if any(t < 1 or t > 1000 for t in cleaned):
        raise ValidationError.field("thresholds_percent", "each threshold is a percentage from 1 to 1000")
    if cleaned and webhook_url is None:
        raise ValidationError.field("webhook_url", "is required when thresholds are set")
    account.alert_webhook_url, account.alert_thresholds = webhook_url, cleaned
    audit.record(session, account.id, "alerts.updated", ctx,
                 {"webhook_url": webhook_url, "thresholds_percent": cleaned})
    session.flush()
    return account


def view(account: Account) -> dict[str, Any]:
    return {"object": "alert_settings", "webhook_url": account.alert_webhook_url,
            "thresholds_percent": list(account.alert_thresholds or []),
            "sent_this_period": list(account.alerts_sent or []),
            "period": {"start": iso(account.period_start), "end": iso(account.period_end)}}


def check(session: Session, account: Account) -> list[int]:
    """After a charge, with the account row locked: queue the thresholds just reached."""
    grant = account.monthly_grant
    if not account.alert_webhook_url or not account.alert_thresholds or grant <= 0:
        return []
    sent = set(account.alerts_sent or [])
    reached = [t for t in account.alert_thresholds if t not in sent and account.period_used * 100 >= t * grant]
    for threshold in reached:
        outbox.enqueue(session, account.id, account.alert_webhook_url, EVENT, {
            "account_id": account.id, "threshold_percent": threshold, "used": account.period_used,
            "monthly_grant": grant, "period": {"start": iso(account.period_start), "end": iso(account.period_end)},
        })
    if reached:
        account.alerts_sent = sorted(sent | set(reached))
        session.flush()
    return reached
