"""Tables. Ids are prefixed strings (``acc_``, ``job_``, ``ast_``) so they are self-describing in logs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db.base import Base, CreatedAt


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    monthly_credits: Mapped[int]
    signup_credits: Mapped[int]
    rate_limit_per_minute: Mapped[int]
    overage_rate_usd: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))
    #: How far below zero the balance may go when the plan has overage.
    overage_limit_credits: Mapped[int] = mapped_column(server_default="0")
    #: Credits an account on this plan may spend per UTC day (None: no daily limit).
    daily_credit_limit: Mapped[int | None]

    @property
    def overage_enabled(self) -> bool:
        return self.overage_rate_usd is not None


class Account(CreatedAt, Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("held >= 0", name="held_not_negative"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"))
    #: Sum of the ledger. ``held`` is reserved by running/queued jobs and not spendable.
    balance: Mapped[int] = mapped_column(BigInteger, server_default="0")
    held: Mapped[int] = mapped_column(BigInteger, server_default="0")
    free_signup_remaining: Mapped[int] = mapped_column(server_default="0")
    overage_credits_period: Mapped[int] = mapped_column(server_default="0")
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    webhook_secret: Mapped[str] = mapped_column(String(80))
    #: The secret replaced by the last rotation keeps signing until ``previous_secret_expires_at``.
    previous_webhook_secret: Mapped[str | None] = mapped_column(String(80))
    previous_secret_expires_at: Mapped[datetime | None]
    #: Argon2 hash; None for accounts an operator created without a password.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    #: What is left of this period's monthly grant: it expires at renewal, other credits roll over.
    monthly_remaining: Mapped[int] = mapped_column(BigInteger, server_default="0")
    #: Credits charged, and monthly credits granted, in the current period (alerts, statements).
    period_used: Mapped[int] = mapped_column(BigInteger, server_default="0")
    period_granted: Mapped[int] = mapped_column(BigInteger, server_default="0")
    #: A downgrade waiting for the period end.
    pending_plan_id: Mapped[str | None] = mapped_column(ForeignKey("plans.id"))
    #: Per-account limits an operator sets (enterprise); None takes the plan's.
    custom_monthly_credits: Mapped[int | None]
    custom_rate_limit_per_minute: Mapped[int | None]
    custom_daily_credit_limit: Mapped[int | None]
    #: Credits held or charged on ``daily_used_on`` (UTC), against the daily limit.
    daily_used: Mapped[int] = mapped_column(BigInteger, server_default="0")
    daily_used_on: Mapped[date | None]
    alert_webhook_url: Mapped[str | None] = mapped_column(Text)
    alert_thresholds: Mapped[list[Any]] = mapped_column(server_default="[]")
    #: Thresholds already announced this period.
    alerts_sent: Mapped[list[Any]] = mapped_column(server_default="[]")

    plan: Mapped[Plan] = relationship(lazy="joined", innerjoin=True, foreign_keys=[plan_id])

    @property
    def monthly_grant(self) -> int:
        return self.plan.monthly_credits if self.custom_monthly_credits is None else self.custom_monthly_credits

    @property
    def rate_limit_per_minute(self) -> int:
        return self.custom_rate_limit_per_minute or self.plan.rate_limit_per_minute

    @property
    def daily_credit_limit(self) -> int | None:
        return self.plan.daily_credit_limit if self.custom_daily_credit_limit is None \
            else self.custom_daily_credit_limit


class ApiKey(CreatedAt, Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(128))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    daily_credit_limit: Mapped[int | None]
    daily_used: Mapped[int] = mapped_column(BigInteger, server_default="0")
    daily_used_on: Mapped[date | None]


class Asset(CreatedAt, Base):
    __tablename__ = "assets"
    __table_args__ = (Index("ix_assets_account_created", "account_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(100))
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    duration_seconds: Mapped[float | None]
    source: Mapped[str] = mapped_column(String(16))
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(Text)


class Job(CreatedAt, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_account_created", "account_id", "created_at", "id"),
        Index("ix_jobs_status_updated", "status", "updated_at"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(32))
    #: The key that submitted the job (None for a session): usage per key, the key's daily limit.
    api_key_id: Mapped[str | None] = mapped_column(String(40))
    prompt: Mapped[str | None] = mapped_column(Text)
    #: The request's parameters with defaults filled in (n, size, seed, voice_id, …); the API
    #: shows them as the job's ``inputs``.
    params: Mapped[dict[str, Any]]
    progress: Mapped[int] = mapped_column(server_default="0")
    estimated_credits: Mapped[int]
    #: What is still reserved for this job; zero once it ends.
    held_credits: Mapped[int]
    credits_charged: Mapped[int] = mapped_column(server_default="0")
    pricing: Mapped[dict[str, Any] | None]
    error: Mapped[dict[str, Any] | None]
    webhook_url: Mapped[str | None] = mapped_column(Text)
    webhook_events: Mapped[list[Any]]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata")
    attempts: Mapped[int] = mapped_column(server_default="0")
    #: Provider request state for upstream jobs (request id, status URLs).
    upstream: Mapped[dict[str, Any] | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    #: Loaded on first use (claim, delete) only: no response shows it, so a job read does not pay for it.
    input_links: Mapped[list[JobInput]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="JobInput.role"
    )
    #: Loaded on first use too: a job's view shows results only once it is completed, so reading a
    #: queued or running job costs one SELECT; lists load a page's results in one (``list_jobs``).
    results: Mapped[list[Asset]] = relationship(
        order_by="Asset.id", foreign_keys="Asset.job_id", viewonly=True
    )


class JobInput(Base):
    __tablename__ = "job_inputs"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)


class LedgerEntry(CreatedAt, Base):
    """One row per change to an account's balance or hold. ``sum(amount) == accounts.balance``."""

    __tablename__ = "credit_ledger"
    __table_args__ = (
        Index("ix_credit_ledger_account_created", "account_id", "created_at"),
        Index("ix_credit_ledger_charges", "account_id", "created_at", postgresql_where=text("kind = 'charge'"),
              postgresql_include=["amount", "api_key_id", "job_id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    #: Not a foreign key: the ledger outlives deleted jobs.
    job_id: Mapped[str | None] = mapped_column(String(40), index=True)
    #: A synchronous request's own id (chat completions, embeddings), when there is no job.
    request_id: Mapped[str | None] = mapped_column(String(40), index=True)
    #: The key that made the charge (usage per key); None for sessions.
    api_key_id: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    held_change: Mapped[int] = mapped_column(BigInteger, server_default="0")
    balance_after: Mapped[int] = mapped_column(BigInteger)
    held_after: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None]


class IdempotencyRecord(CreatedAt, Base):
    __tablename__ = "idempotency_records"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None]
    response_body: Mapped[dict[str, Any] | None]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class WebhookEvent(CreatedAt, Base):
    """One event for one job's webhook URL: signed once per attempt with the same ``webhook_id``."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the webhook-id / evt_ id
    #: None for account events (``account.credits_threshold``).
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    #: pending → delivered | gone (410) | exhausted (retries used up)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(server_default="0")
    #: Attempts made before the last manual redelivery; the retry schedule restarts after it.
    schedule_offset: Mapped[int] = mapped_column(server_default="0")
    next_attempt_at: Mapped[datetime | None]
    #: Set when the dispatcher hands the event to a task, so it is not handed out twice at once.
    dispatched_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int]
    status_code: Mapped[int | None]
    latency_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(Text)
    attempted_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]


class UserSession(CreatedAt, Base):
    """A person's login. Only a SHA-256 of the ``at_sess_`` token is stored."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    last_seen_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Statement(CreatedAt, Base):
    """One closed period: what was granted and used, and the overage to bill."""

    __tablename__ = "statements"
    __table_args__ = (UniqueConstraint("account_id", "period_start", name="uq_statements_account_period"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    plan_id: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    granted: Mapped[int] = mapped_column(BigInteger)
    used: Mapped[int] = mapped_column(BigInteger)
    overage_credits: Mapped[int] = mapped_column(BigInteger)
    overage_rate_usd: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))
    amount_due_usd: Mapped[Decimal] = mapped_column(Numeric(12, 4))


class AuditEvent(CreatedAt, Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_account_created", "account_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(340))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    details: Mapped[dict[str, Any] | None]
