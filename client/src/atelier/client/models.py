"""Typed views of the API's JSON. Every model keeps the full JSON in ``raw`` (fields added later stay readable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TERMINAL = frozenset({"completed", "failed", "aborted"})


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass(frozen=True)
class Asset:
    id: str
    kind: str
    content_type: str
    bytes: int
    url: str
    sha256: str | None = None
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    source: str | None = None
    job_id: str | None = None
    filename: str | None = None
    created_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Asset:
        return cls(id=data["id"], kind=data["kind"], content_type=data.get("content_type") or "",
                   bytes=int(data.get("bytes") or 0), url=data.get("url") or "", sha256=data.get("sha256"),
                   width=data.get("width"), height=data.get("height"),
                   duration_seconds=data.get("duration_seconds"), source=data.get("source"),
                   job_id=data.get("job_id"), filename=data.get("filename"),
                   created_at=parse_time(data.get("created_at")), raw=data)


@dataclass(frozen=True)
class Job:
    id: str
    mode: str
    status: str
    progress: int
    model: str | None = None
    provider: str | None = None
    prompt: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    estimated_credits: int = 0
    credits_charged: int = 0
    assets: list[Asset] = field(default_factory=list)
    error: dict[str, Any] | None = None
    webhook_url: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        result = data.get("result") or {}
        return cls(id=data["id"], mode=data["mode"], status=data["status"], progress=int(data.get("progress") or 0),
                   model=data.get("model"), provider=data.get("provider"), prompt=data.get("prompt"),
                   inputs=data.get("inputs") or {}, estimated_credits=int(data.get("estimated_credits") or 0),
                   credits_charged=int(data.get("credits_charged") or 0),
                   assets=[Asset.from_dict(a) for a in result.get("assets") or []], error=data.get("error"),
                   webhook_url=data.get("webhook_url"), metadata=data.get("metadata") or {},
                   created_at=parse_time(data.get("created_at")), started_at=parse_time(data.get("started_at")),
                   completed_at=parse_time(data.get("completed_at")), raw=data)

    @property
    def done(self) -> bool:
        """Terminal: ``completed``, ``failed`` or ``aborted``."""
        return self.status in TERMINAL


@dataclass(frozen=True)
class JobEvent:
    """One Server-Sent Event of ``GET /v1/jobs/{id}/events``: the job as it is after a change."""

    event: str
    job: Job
    id: str | None = None

    @property
    def status(self) -> str:
        return self.job.status

    @property
    def progress(self) -> int:
        return self.job.progress


@dataclass(frozen=True)
class Credits:
    remaining: int
    held: int
    monthly_grant: int
    balance: int | None = None
    free_signup_remaining: int | None = None


@dataclass(frozen=True)
class Account:
    id: str
    email: str | None
    plan: str
    credits: Credits
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Account:
        credits = data.get("credits") or {}
        return cls(id=data["id"], email=data.get("email"), plan=(data.get("plan") or {}).get("name", ""),
                   credits=Credits(remaining=int(credits.get("remaining") or 0), held=int(credits.get("held") or 0),
                                   monthly_grant=int(credits.get("monthly_grant") or 0),
                                   balance=credits.get("balance"),
                                   free_signup_remaining=credits.get("free_signup_remaining")),
                   raw=data)


@dataclass(frozen=True)
class LedgerEntry:
    id: str
    kind: str
    amount: int
    held_change: int
    balance_after: int
    job_id: str | None
    reason: str | None
    created_at: datetime | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LedgerEntry:
        return cls(id=data["id"], kind=data["kind"], amount=int(data.get("amount") or 0),
                   held_change=int(data.get("held_change") or 0), balance_after=int(data.get("balance_after") or 0),
                   job_id=data.get("job_id"), reason=data.get("reason"),
                   created_at=parse_time(data.get("created_at")), raw=data)


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str | None
    prefix: str | None
    created_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    key: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ApiKey:
        return cls(id=data["id"], name=data.get("name"), prefix=data.get("prefix"),
                   created_at=parse_time(data.get("created_at")), last_used_at=parse_time(data.get("last_used_at")),
                   revoked_at=parse_time(data.get("revoked_at")), key=data.get("key"), raw=data)
