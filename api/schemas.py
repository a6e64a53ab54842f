"""Request bodies. Types and ranges are checked here; mode-specific rules in shared.jobs.spec."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: str
    model: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    n: int | None = Field(None, ge=1, le=4)
    size: str | None = None
    seed: int | None = Field(None, ge=0, le=2**32 - 1)
    strength: float | None = Field(None, ge=0, le=1)
    input_image_asset_id: str | None = None
    audio_asset_id: str | None = None
    voice_text: str | None = None
    voice_id: str | None = None
    duration_seconds: float | None = Field(None, gt=0)
    output_format: str | None = None
    webhook_url: str | None = Field(None, max_length=2048)
    webhook_events: list[str] | None = None
    metadata: dict[str, str] | None = None


def page(items: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": has_more,
            "next_cursor": items[-1]["id"] if has_more and items else None}
