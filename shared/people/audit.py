"""The audit log: security-relevant actions on an account, with who, from where, and how."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import AuditEvent
from shared.db.pagination import Page, paginate
from shared.ids import new_id
from shared.views import iso

ACTIONS = frozenset({
    "signup", "login", "login_failed", "logout", "key.created", "key.rotated", "key.revoked",
    "plan.changed", "plan.change_scheduled", "plan.limits_set", "webhook_secret.rotated", "alerts.updated",
})


@dataclass(frozen=True)
class Context:
    """Where an action came from: the actor (email, key id, ``operator``), address and user agent."""

    actor: str
    ip: str | None = None
    user_agent: str | None = None


OPERATOR = Context(actor="operator", ip=None, user_agent="atelier-cli")
SYSTEM = Context(actor="system")


def record(session: Session, account_id: str, action: str, ctx: Context,
           details: dict[str, Any] | None = None) -> AuditEvent:
    assert action in ACTIONS, action
    event = AuditEvent(id=new_id("aud"), account_id=account_id, action=action, actor=ctx.actor[:340],
                       ip=ctx.ip, user_agent=(ctx.user_agent or None) and ctx.user_agent[:400], details=details)
    session.add(event)
    session.flush()
    return event


def list_events(session: Session, account_id: str, *, limit: int = 20, after: str | None = None) -> Page:
    stmt = select(AuditEvent).where(AuditEvent.account_id == account_id)
    return paginate(session, stmt, AuditEvent, account_id=account_id, after=after, limit=limit)


def view(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "object": "audit_event", "action": event.action, "actor": event.actor,
            "ip": event.ip, "user_agent": event.user_agent, "details": event.details or {},
            "created_at": iso(event.created_at)}
