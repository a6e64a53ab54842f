"""A person's own API keys: list, create (the secret shown once), rotate, revoke."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import accounts
from shared.db.models import ApiKey
from shared.errors import NotFound, ValidationError
from shared.people import audit, key_usage
from shared.views import iso

PUBLIC_PREFIX = "key_"
MAX_KEYS = 100


def public_id(key: ApiKey) -> str:
    return PUBLIC_PREFIX + key.id


def view(key: ApiKey, full_key: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": public_id(key), "object": "api_key", "name": key.name, "prefix": accounts.KEY_PREFIX + key.id,
        "created_at": iso(key.created_at), "last_used_at": iso(key.last_used_at),
        "revoked_at": iso(key.revoked_at), "daily_credit_limit": key.daily_credit_limit,
    }
    if full_key is not None:
        data["key"] = full_key
    return data


def list_keys(session: Session, account_id: str) -> list[ApiKey]:
    key_usage.flush(session)  # lazily, so a listing shows uses the beat has not written yet
    return list(session.scalars(select(ApiKey).where(ApiKey.account_id == account_id)
                                .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())))


def _owned(session: Session, account_id: str, key_id: str, *, lock: bool = True) -> ApiKey:
    raw = key_id[len(PUBLIC_PREFIX):] if key_id.startswith(PUBLIC_PREFIX) else None
    key = session.get(ApiKey, raw, with_for_update=lock) if raw else None
    if key is None or key.account_id != account_id:
        raise NotFound(f"No API key {key_id}.")
    return key


def create(session: Session, account_id: str, name: str | None, daily_credit_limit: int | None,
           ctx: audit.Context) -> tuple[ApiKey, str]:
    live = session.scalars(select(ApiKey.id).where(ApiKey.account_id == account_id,
                                                   ApiKey.revoked_at.is_(None))).all()
    if len(live) >= MAX_KEYS:
        raise ValidationError.field("name", f"an account has at most {MAX_KEYS} live keys; revoke one first")
    key, full = accounts.create_key(session, account_id, name, daily_credit_limit)
    session.refresh(key)
    audit.record(session, account_id, "key.created", ctx,
                 {"key_id": public_id(key), "name": name, "daily_credit_limit": daily_credit_limit})
    return key, full


def rotate(session: Session, account_id: str, key_id: str, ctx: audit.Context) -> tuple[ApiKey, str]:
    key = _owned(session, account_id, key_id)
    if key.revoked_at is not None:
        raise NotFound(f"API key {key_id} is revoked; create a new one.")
    full = accounts.rotate_key(session, key)
    audit.record(session, account_id, "key.rotated", ctx, {"key_id": public_id(key)})
    return key, full


def revoke(session: Session, account_id: str, key_id: str, ctx: audit.Context) -> ApiKey:
    key = _owned(session, account_id, key_id)
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        audit.record(session, account_id, "key.revoked", ctx, {"key_id": public_id(key)})
        session.flush()
    return key
