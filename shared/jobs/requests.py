"""What job request bodies are made of; each mode's own model is in ``shared.jobs.modes``.

Each model names its mode with ``mode: Literal[...]``; ``shared.jobs.modes`` joins them into
the discriminated union ``POST /v1/jobs`` validates against. Pydantic's errors are rendered in
the contract's shape by ``describe_errors``: a missing field "is required for MODE", an
unknown one "is not accepted for MODE", and an over-long text is ``PROMPT_TOO_LONG``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from shared.errors import AtelierError, PromptTooLong, ValidationError
from shared.text import problem

if TYPE_CHECKING:
    from shared.db.models import Asset

MAX_TEXT = 500
Size = Literal["512x512", "1024x1024", "1792x1024", "1024x1792"]
#: Speech and music files: OpenAI's speech formats (``pcm``: raw 16-bit little-endian mono
#: samples at 24 kHz, no header).
AudioFormat = Literal["mp3", "wav", "opus", "aac", "flac", "pcm"]
#: Image finish: ``vivid`` (more saturated and contrasted) or ``natural`` (subdued).
ImageStyle = Literal["vivid", "natural"]
#: Rendering effort: ``low`` (half resolution, resampled), ``standard``, ``hd`` (supersampled).
ImageQuality = Literal["low", "standard", "hd"]
#: Enlargement of each finished image by resampling.
Upscale = Literal["2x", "4x"]
WebhookEvent = Literal["job.running", "job.completed", "job.failed", "job.aborted"]
WEBHOOK_EVENTS = ("job.running", "job.completed", "job.failed", "job.aborted")
DEFAULT_WEBHOOK_EVENTS = ["job.completed", "job.failed", "job.aborted"]
#: Fields every mode takes; they describe the job, they are not the provider's parameters.
COMMON = frozenset({"mode", "model", "webhook_url", "webhook_events", "metadata"})
_RULE = "job_rule"


def rule(message: str, field: str | None = None) -> PydanticCustomError:
    """A broken request rule, in pydantic's error family; ``field`` names it when raised by a
    whole-model check (whose location would otherwise be the model)."""
    return PydanticCustomError(_RULE, "{message}", {"message": message, **({"field": field} if field else {})})


def _check_text(value: str, max_length: int) -> str:
    if not value.strip():
        raise rule("must be a non-empty string")
    if len(value) > max_length:
        raise PydanticCustomError("prompt_too_long", "is {length} characters; the maximum is {max_length}",
                                  {"length": len(value), "max_length": max_length})
    return value


def _text(value: str, info: ValidationInfo) -> str:
    """A prompt or voice text: 1–500 characters, or up to ``max_text`` when the endpoint creating
    the job allows more (``POST /v1/audio/speech`` validates with ``context={"max_text": 4096}``)."""
    context = info.context if isinstance(info.context, dict) else {}
    return _check_text(value, int(context.get("max_text", MAX_TEXT)))


def limited_text(max_length: int) -> Callable[[str], str]:
    """A validator for a text field of at most ``max_length`` characters (``PROMPT_TOO_LONG``)."""
    return lambda value: _check_text(value, max_length)


def _events(value: list[str]) -> list[str]:
    if not value or any(e not in WEBHOOK_EVENTS for e in value):
        raise rule(f"must be a non-empty subset of {', '.join(WEBHOOK_EVENTS)}")
    return list(dict.fromkeys(value))


def _metadata(value: dict[str, str]) -> dict[str, str]:
    if len(value) > 16 or any(len(k) > 64 or len(v) > 500 for k, v in value.items()):
        raise rule("at most 16 keys (≤ 64 characters), string values ≤ 500 characters")
    return value


def check_storable(data: Mapping[str, Any]) -> None:
    """No NUL or unpaired surrogate in any string of the request (texts, ids, metadata keys and
    values): PostgreSQL cannot store them."""
    for name, value in data.items():
        strings = [value] if isinstance(value, str) else []
        if isinstance(value, dict):
            strings = [s for pair in value.items() for s in pair if isinstance(s, str)]
        elif isinstance(value, list):
            strings = [s for s in value if isinstance(s, str)]
        for text in strings:
            if (reason := problem(text)) is not None:
                raise rule(reason, field=str(name))


Text = Annotated[str, AfterValidator(_text)]
#: An input given by URL: http(s) or a ``data:`` URI (fetched and checked by ``shared.url_inputs``).
InputURL = Annotated[str, Field(min_length=1)]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1, default_factory=lambda: random.randrange(2**31))]


@dataclass(frozen=True)
class DurationRange:
    """Seconds a mode can produce, and what it produces when the request does not say."""

    low: float
    high: float
    default: float

    def check(self, value: float) -> float:
        if not self.low <= value <= self.high:
            raise rule(f"must be between {self.low:g} and {self.high:g}")
        return value


@dataclass(frozen=True)
class AssetField:
    """A request field naming an uploaded asset: its role on the job and the kind it must be."""

    role: Literal["image", "audio", "video", "mask"]
    kind: Literal["image", "audio", "video"]
    #: Longest accepted duration, for audio the job's output length follows.
    max_seconds: float | None = None
    #: The request field that may give this input by URL instead (``shared.url_inputs``).
    url: str | None = None
    #: Whether the mode needs this input (by id or by URL).
    required: bool = False


class JobRequestBase(BaseModel):
    """What every mode's request has; subclasses add ``mode`` and their own fields."""

    # Strict: ``true`` is not a number of seconds, ``"2"`` not a count of images.
    model_config = ConfigDict(extra="forbid", strict=True)

    #: Request fields that name input assets.
    asset_fields: ClassVar[Mapping[str, AssetField]] = {}

    mode: str
    model: str | None = None
    webhook_url: Annotated[str, Field(max_length=2048)] | None = None
    webhook_events: Annotated[list[str], AfterValidator(_events)] | None = None
    metadata: Annotated[dict[str, str], AfterValidator(_metadata)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _absent_when_null(cls, data: Any) -> Any:
        # An explicit null means "not given", for every field of every mode.
        if not isinstance(data, dict):
            return data
        check_storable(data)
        return {k: v for k, v in data.items() if v is not None}

    @model_validator(mode="after")
    def _one_source(self) -> JobRequestBase:
        """An input asset is given by id or by URL, not both; a required one by either."""
        for name, spec in self.asset_fields.items():
            by_id, by_url = getattr(self, name, None), getattr(self, spec.url, None) if spec.url else None
            if by_id is not None and by_url is not None:
                raise rule(f"give either {name} or {spec.url}, not both", name)
            if spec.required and by_id is None and by_url is None:
                raise rule(f"is required for {self.mode} (or {spec.url})", name)
        return self

    @property
    def prompt_text(self) -> str | None:
        return getattr(self, "prompt", None)

    def params(self) -> dict[str, Any]:
        """The provider's parameters, defaults filled in; stored as ``job.params``."""
        return self.model_dump(exclude=set(COMMON) | {"prompt"}, exclude_none=True)

    def assets(self) -> dict[str, str]:
        """role → asset id, for the input assets given."""
        return {spec.role: getattr(self, name) for name, spec in self.asset_fields.items()
                if getattr(self, name, None) is not None}

    def check_inputs(self, assets: Mapping[str, Asset]) -> None:
        """Rules between input assets (role → asset), checked once they are found; raises a 400."""

    def events(self) -> list[str]:
        return list(self.webhook_events) if self.webhook_events else list(DEFAULT_WEBHOOK_EVENTS)

    def given(self) -> dict[str, Any]:
        """The fields as the client sent them (no defaults): what an idempotency key fingerprints."""
        return self.model_dump(exclude_unset=True, exclude_none=True)


def _message(err: Mapping[str, Any], mode: str | None, modes: Iterable[str]) -> tuple[str | None, str]:
    kind, ctx = err.get("type"), err.get("ctx") or {}
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return "mode", f"must be one of {', '.join(modes)}"
    if kind == "missing" and mode:
        return None, f"is required for {mode}"
    if kind == "extra_forbidden" and mode:
        return None, f"is not accepted for {mode}"
    if kind == "literal_error" and "expected" in ctx:
        return None, f"must be one of {ctx['expected']}"
    return ctx.get("field"), str(err.get("msg", "invalid"))


def describe_errors(errors: Iterable[Mapping[str, Any]], modes: Iterable[str]) -> AtelierError:
    """Pydantic's errors (from a job request or any other request) as our 400."""
    modes = tuple(modes)
    found = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header", "form")]
        if err.get("type") == "prompt_too_long":
            name, ctx = loc[-1], err.get("ctx") or {}
            return PromptTooLong(f"{name} is {ctx['length']} characters; the maximum is {ctx['max_length']}.",
                                 details={"field": name, "max_length": ctx["max_length"], "length": ctx["length"]})
        # A job request's field sits under its mode's tag; a lone name is a field (chat's ``audio``).
        mode = loc.pop(0) if len(loc) > 1 and loc[0] in modes else None
        named, message = _message(err, mode, modes)
        found.append({"field": named or ".".join(loc) or "body", "message": message})
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in found) or "Invalid request."
    return ValidationError(summary, details={"errors": found})
