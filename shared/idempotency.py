"""Idempotency-Key handling for POST /v1/jobs and POST /v1/assets.

The record is inserted in the same transaction that creates the resource. A concurrent
request with the same key blocks on that row until the first transaction ends, then
replays the stored response (or, if the first rolled back, proceeds as the first). A
request still waiting after ``LOCK_WAIT`` gets 409 IDEMPOTENCY_IN_PROGRESS.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from shared.db.models import IdempotencyRecord
from shared.errors import IdempotencyInProgress, IdempotencyKeyReused, ValidationError
from shared.text import check_field

TTL = timedelta(hours=24)
LOCK_WAIT = "5s"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def claim(session: Session, account_id: str, key: str, endpoint: str, fp: str) -> Replay | None:
    """Reserve ``key`` for this request, or return the response to replay."""
    _check_key(key)
    now = datetime.now(UTC)
    # An expired record is as good as absent; the beat clean-up removes them in bulk.
    session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key,
        IdempotencyRecord.expires_at <= now))
    # Bounds the wait on a concurrent first request (and on the rest of this short transaction).
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
    try:
        inserted = session.execute(
            insert(IdempotencyRecord)
            .values(account_id=account_id, key=key, endpoint=endpoint, fingerprint=fp, expires_at=now + TTL)
            .on_conflict_do_nothing()
            .returning(IdempotencyRecord.key)
        ).scalar_one_or_none()
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
            raise IdempotencyInProgress("A request with this Idempotency-Key is still in progress.") from exc
        raise
    if inserted is not None:
        return None
    record = session.scalars(select(IdempotencyRecord).where(
        IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key)).one()
    replay = _replay(record, key, endpoint, fp)
    if replay is None:
        raise IdempotencyInProgress("A request with this Idempotency-Key is still in progress.")
    return replay


def lookup(session: Session, account_id: str, key: str, endpoint: str, fp: str) -> Replay | None:
    """The answer to replay if ``key`` was already used (committed) for this request — one read,
    no claim, so a request with slow work before its transaction (inputs by URL) can skip it on a
    repeat. ``None`` otherwise; ``claim`` in the creating transaction still decides."""
    _check_key(key)
    record = session.scalars(select(IdempotencyRecord).where(
        IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key,
        IdempotencyRecord.expires_at > datetime.now(UTC))).one_or_none()
    return None if record is None else _replay(record, key, endpoint, fp)


def _replay(record: IdempotencyRecord, key: str, endpoint: str, fp: str) -> Replay | None:
    if record.endpoint != endpoint or record.fingerprint != fp:
        raise IdempotencyKeyReused("This Idempotency-Key was used with a different request.",
                                   details={"idempotency_key": key})
    if record.response_status is None:
        return None
    return Replay(record.response_status, record.response_body or {})


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError.field("Idempotency-Key", f"must be 1–{MAX_KEY_LENGTH} characters")
    check_field("Idempotency-Key", key)


def store(session: Session, account_id: str, key: str, status: int, body: dict[str, Any]) -> None:
    record = session.get(IdempotencyRecord, (account_id, key))
    if record is not None:
        record.response_status = status
        record.response_body = body
        session.flush()


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    #: True when this is the stored answer to an earlier request with the same key.
    replayed: bool = False


def once(session: Session, account_id: str, key: str | None, endpoint: str, *, status: int,
         fingerprint: Callable[[], str], create: Callable[[], dict[str, Any]]) -> Outcome:
    """Run ``create`` once per key: a repeat replays the first answer. The record is written in
    the caller's transaction, so concurrent repeats wait for the first and then replay it."""
    if key is None:
        return Outcome(status, create())
    replay = claim(session, account_id, key, endpoint, fingerprint())
    if replay:
        return Outcome(replay.status, replay.body, replayed=True)
    body = create()
    store(session, account_id, key, status, body)
    return Outcome(status, body)


def purge_expired(session: Session, now: datetime | None = None) -> int:
    result = session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.expires_at <= (now or datetime.now(UTC))))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
