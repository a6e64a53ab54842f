"""Request and response bodies of the people endpoints (auth, keys, plans, usage, alerts, audit)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.openapi import AUTHENTICATED, errors

__all__ = ["AUTHENTICATED", "errors"]


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    daily_credit_limit: int | None = Field(None, ge=1, le=10**9)


class PlanChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str = Field(max_length=32)


class AlertSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_url: str | None = Field(None, max_length=2048)
    thresholds_percent: list[int] = Field(default_factory=list, max_length=10)


class Period(BaseModel):
    start: str | None
    end: str | None


class AccountOut(BaseModel):
    id: str
    object: str
    email: str
    premium: bool
    plan: dict[str, Any]
    credits: dict[str, Any]
    overage: dict[str, Any]
    period: Period
    daily_limit: dict[str, Any]


class SessionOut(BaseModel):
    account: AccountOut
    session_token: str


class KeyOut(BaseModel):
    id: str
    object: str
    name: str | None
    prefix: str
    created_at: str | None
    last_used_at: str | None
    revoked_at: str | None
    daily_credit_limit: int | None


class KeyCreated(KeyOut):
    key: str = Field(description="The full key, shown this once: only its hash is stored.")


class KeyList(BaseModel):
    object: str
    data: list[KeyOut]
    has_more: bool
    next_cursor: str | None


class PlanOut(BaseModel):
    id: str
    object: str
    monthly_credits: int
    signup_credits: int
    rate_limit_per_minute: int
    daily_credit_limit: int | None
    overage_rate_usd: float | None
    overage_limit_credits: int
    self_service: bool


class PlanList(BaseModel):
    object: str
    data: list[PlanOut]
    has_more: bool
    next_cursor: str | None


class PlanChangeOut(BaseModel):
    account: AccountOut
    pending_plan: str | None


class StatementOut(BaseModel):
    id: str
    object: str
    plan: str
    period: Period
    granted: int
    used: int
    overage_credits: int
    overage_rate_usd: float | None
    amount_due_usd: float
    created_at: str | None


class StatementList(BaseModel):
    object: str
    data: list[StatementOut]
    has_more: bool
    next_cursor: str | None


class UsageGroup(BaseModel):
    key: str
    credits: int
    requests: int
    prompt_tokens: int
    completion_tokens: int


class UsageSummary(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    object: str
    from_: str = Field(alias="from")
    to: str
    group_by: str
    total_credits: int
    total_requests: int
    prompt_tokens: int
    completion_tokens: int
    groups: list[UsageGroup]


class AlertsOut(BaseModel):
    object: str
    webhook_url: str | None
    thresholds_percent: list[int]
    sent_this_period: list[int]
    period: Period


class AuditEventOut(BaseModel):
    id: str
    object: str
    action: str
    actor: str
    ip: str | None
    user_agent: str | None
    details: dict[str, Any]
    created_at: str | None


class AuditList(BaseModel):
    object: str
    data: list[AuditEventOut]
    has_more: bool
    next_cursor: str | None
