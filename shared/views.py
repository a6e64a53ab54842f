"""The public JSON shapes of assets and jobs, used by the API, job events and webhooks alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.db.models import Asset, Job

TERMINAL = frozenset({"completed", "failed", "aborted"})


def iso(value: datetime | None) -> str | None:
    """ISO-8601 in UTC with milliseconds and a ``Z``."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def asset_view(asset: Asset, base_url: str) -> dict[str, Any]:
    return {
        "id": asset.id,
        "object": "asset",
        "kind": asset.kind,
        "content_type": asset.content_type,
        "bytes": asset.bytes,
        "sha256": asset.sha256,
        "width": asset.width,
        "height": asset.height,
        "duration_seconds": asset.duration_seconds,
        "source": asset.source,
        "job_id": asset.job_id,
        "filename": asset.filename,
        "url": f"{base_url}/v1/assets/{asset.id}/content",
        "created_at": iso(asset.created_at),
    }


def job_view(job: Job, base_url: str) -> dict[str, Any]:
    return {
        "id": job.id,
        "object": "job",
        "mode": job.mode,
        "status": job.status,
        "model": job.model,
        "provider": job.provider,
        "prompt": job.prompt,
        "inputs": job.params,
        "progress": job.progress,
        "estimated_credits": job.estimated_credits,
        "credits_charged": job.credits_charged,
        # The stored rules are bookkeeping; clients see the estimate and what was charged for.
        "pricing": {k: v for k, v in (job.pricing or {}).items() if k != "rules"},
        "result": {"assets": [asset_view(a, base_url) for a in job.results]}
        if job.status == "completed" else None,
        "error": job.error,
        "webhook_url": job.webhook_url,
        "webhook_events": job.webhook_events,
        "metadata": job.metadata_,
        "attempts": job.attempts,
        "upstream": {k: job.upstream[k] for k in ("provider", "model", "request_id") if k in job.upstream}
        if job.upstream else None,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "completed_at": iso(job.completed_at),
    }
