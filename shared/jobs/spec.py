"""What a job request must contain, per mode (the table under Jobs in the contract)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from shared.errors import PromptTooLong, ValidationError

MAX_TEXT = 500
SIZES = ("512x512", "1024x1024", "1792x1024", "1024x1792")
VOICE_IDS = ("casual_male", "casual_female", "narrator", "news_anchor")
WEBHOOK_EVENTS = ("job.running", "job.completed", "job.failed", "job.aborted")
DEFAULT_WEBHOOK_EVENTS = ["job.completed", "job.failed", "job.aborted"]
COMMON = {"mode", "model", "webhook_url", "webhook_events", "metadata"}

#: mode → (required fields, optional fields)
FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "text_to_image": ({"prompt"}, {"n", "size", "seed", "negative_prompt"}),
    "image_to_image": ({"prompt", "input_image_asset_id"}, {"strength", "seed"}),
    "audio": ({"voice_text"}, {"voice_id", "output_format"}),
    "music": ({"prompt"}, {"duration_seconds", "seed", "output_format"}),
    "image_to_video": ({"input_image_asset_id"}, {"voice_text", "audio_asset_id", "voice_id", "prompt", "seed"}),
    "text_to_video": ({"prompt"}, {"duration_seconds", "seed"}),
}
DURATION_RANGE = {"music": (1, 47, 30), "text_to_video": (1, 10, 5)}
#: Request field → (job input role, asset kind)
ASSET_FIELDS = {"input_image_asset_id": ("image", "image"), "audio_asset_id": ("audio", "audio")}


@dataclass
class JobSpec:
    mode: str
    model: str | None
    prompt: str | None
    #: Everything the provider needs besides the prompt; stored as ``job.inputs``.
    params: dict[str, Any]
    #: role → asset id
    assets: dict[str, str]
    webhook_url: str | None = None
    webhook_events: list[str] = field(default_factory=lambda: list(DEFAULT_WEBHOOK_EVENTS))
    metadata: dict[str, str] = field(default_factory=dict)


def _text(body: dict[str, Any], name: str, errors: list[dict[str, str]]) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        errors.append({"field": name, "message": "must be a non-empty string"})
        return None
    if len(value) > MAX_TEXT:
        raise PromptTooLong(f"{name} is {len(value)} characters; the maximum is {MAX_TEXT}.",
                            details={"field": name, "max_length": MAX_TEXT, "length": len(value)})
    return value


def parse(body: dict[str, Any]) -> JobSpec:
    """Check a job request (already type-checked at the edge) against its mode's rules."""
    mode = body.get("mode")
    if mode not in FIELDS:
        raise ValidationError.field("mode", f"must be one of {', '.join(FIELDS)}")
    required, optional = FIELDS[mode]
    errors: list[dict[str, str]] = []
    present = {k for k, v in body.items() if v is not None}
    for name in sorted(required - present):
        errors.append({"field": name, "message": f"is required for {mode}"})
    for name in sorted(present - required - optional - COMMON):
        errors.append({"field": name, "message": f"is not accepted for {mode}"})

    prompt = _text(body, "prompt", errors)
    voice_text = _text(body, "voice_text", errors)
    params: dict[str, Any] = {}
    if voice_text is not None:
        params["voice_text"] = voice_text
    if body.get("negative_prompt") is not None:
        negative = _text(body, "negative_prompt", errors)
        if negative is not None:
            params["negative_prompt"] = negative

    if mode == "text_to_image":
        params["n"] = body.get("n") or 1
        params["size"] = body.get("size") or "1024x1024"
        if params["size"] not in SIZES:
            errors.append({"field": "size", "message": f"must be one of {', '.join(SIZES)}"})
    if mode == "image_to_image":
        params["strength"] = 0.6 if body.get("strength") is None else body["strength"]
    if mode in ("audio", "image_to_video") and (voice_text is not None or mode == "audio"):
        params["voice_id"] = body.get("voice_id") or "narrator"
        if params["voice_id"] not in VOICE_IDS:
            errors.append({"field": "voice_id", "message": f"must be one of {', '.join(VOICE_IDS)}"})
    if mode in ("audio", "music"):
        params["output_format"] = body.get("output_format") or "mp3"
        if params["output_format"] not in ("mp3", "wav"):
            errors.append({"field": "output_format", "message": "must be mp3 or wav"})
    if mode in DURATION_RANGE:
        low, high, default = DURATION_RANGE[mode]
        duration = body.get("duration_seconds")
        duration = default if duration is None else duration
        if not low <= duration <= high:
            errors.append({"field": "duration_seconds", "message": f"must be between {low} and {high}"})
        params["duration_seconds"] = duration
    if mode == "image_to_video":
        has_voice, has_audio = voice_text is not None, body.get("audio_asset_id") is not None
        if has_voice == has_audio:
            errors.append({"field": "voice_text",
                           "message": "give exactly one of voice_text or audio_asset_id"})
        if body.get("voice_id") is not None and not has_voice:
            errors.append({"field": "voice_id", "message": "only applies with voice_text"})
    if mode in ("image_to_image", "music", "image_to_video", "text_to_video", "text_to_image"):
        # A seed is always recorded so any result can be reproduced.
        params["seed"] = body.get("seed") if body.get("seed") is not None else random.randrange(2**31)

    assets = {}
    for name, (role, _kind) in ASSET_FIELDS.items():
        if body.get(name) is not None:
            assets[role] = body[name]
            params[name] = body[name]

    events = body.get("webhook_events")
    if events is not None:
        bad = [e for e in events if e not in WEBHOOK_EVENTS]
        if bad or not events:
            errors.append({"field": "webhook_events", "message": f"must be a non-empty subset of "
                                                                 f"{', '.join(WEBHOOK_EVENTS)}"})
    metadata = body.get("metadata") or {}
    if len(metadata) > 16 or any(len(k) > 64 or len(v) > 500 for k, v in metadata.items()):
        errors.append({"field": "metadata",
                       "message": "at most 16 keys (≤ 64 characters), string values ≤ 500 characters"})
    if errors:
        raise ValidationError("; ".join(f"{e['field']}: {e['message']}" for e in errors),
                              details={"errors": errors})
    return JobSpec(mode=mode, model=body.get("model"), prompt=prompt, params=params, assets=assets,
                   webhook_url=body.get("webhook_url"),
                   webhook_events=list(dict.fromkeys(events)) if events else list(DEFAULT_WEBHOOK_EVENTS),
                   metadata=metadata)
