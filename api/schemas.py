"""The public response shapes, as pydantic models for the OpenAPI document (job request bodies
are the mode registry's models, ``shared.jobs.modes``).

Routes return the plain dicts of ``shared.views`` (also used by job events and webhooks);
FastAPI validates them against these models and serializes once. Resource models allow
extra keys, so a field added to a view shows up in the answer before it is described here.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
JobStatus = Literal["queued", "running", "completed", "failed", "aborted"]
#: ``text``: a JSON document a job produced (a transcript); uploads are image, audio or video.
AssetKind = Literal["image", "audio", "video", "text"]


# -- responses ----------------------------------------------------------------------------------

class _Resource(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDetail(_Resource):
    code: str = Field(examples=["VALIDATION_ERROR"])
    message: str
    status: int
    #: For OpenAI SDK clients: ``invalid_request_error``, ``authentication_error``, …
    type: str | None = None
    #: The request field at fault, or null.
    param: str | None = None
    details: dict[str, Any]


class Error(BaseModel):
    error: ErrorDetail


class Asset(_Resource):
    id: str
    object: Literal["asset"]
    kind: AssetKind
    content_type: str
    bytes: int
    sha256: str
    width: int | None
    height: int | None
    duration_seconds: float | None
    source: str
    job_id: str | None
    filename: str
    url: str
    created_at: Timestamp


class JobResult(_Resource):
    assets: list[Asset]


class JobError(_Resource):
    code: str
    message: str


class Job(_Resource):
    id: str
    object: Literal["job"]
    mode: str
    status: JobStatus
    model: str
    provider: str
    prompt: str | None
    inputs: dict[str, Any]
    progress: int = Field(ge=0, le=100)
    estimated_credits: int
    credits_charged: int
    pricing: dict[str, Any]
    result: JobResult | None
    error: JobError | None
    webhook_url: str | None
    webhook_events: list[str]
    metadata: dict[str, str]
    attempts: int
    upstream: dict[str, Any] | None
    created_at: Timestamp
    started_at: Timestamp | None
    completed_at: Timestamp | None



# -- OpenAI-compatible media endpoints (shared.compat) -----------------------------------------

class JobAccepted(_Resource):
    """A compatible call's job that has not finished (``?async=true``, or still running at the
    synchronous wait limit): poll it at ``GET /v1/jobs/{id}``."""

    id: str = Field(examples=["job_01JD…"])
    object: Literal["job"]
    status: JobStatus
    #: Unix seconds.
    created: int
    model: str
    estimated_credits: int


class CreditsLine(_Resource):
    component: str = Field(examples=["image"])
    unit: str
    quantity: float
    units: int
    credits: int


class CreditsUsage(_Resource):
    """What a compatible call charged: the job's credits, line by line."""

    credits_used: int
    credits_breakdown: list[CreditsLine]


class ImageData(_Resource):
    """One image: ``url`` (signed, works without a key until it expires) or ``b64_json``."""

    url: str | None = None
    b64_json: str | None = None
    revised_prompt: str | None
    width: int
    height: int


class ImagesResponse(_Resource):
    """OpenAI's ``ImagesResponse``, with Atelier's ``model`` and credits ``usage``."""

    #: Unix seconds.
    created: int
    data: list[ImageData]
    model: str
    usage: CreditsUsage


class SpeechAnswer(_Resource):
    """``POST /v1/audio/speech`` with ``Accept: application/json`` (AI Magicx's answer)."""

    #: Unix seconds.
    created: int
    #: A signed content URL that works without a key until it expires.
    audio_url: str
    duration_seconds: float
    character_count: int
    model: str
    usage: CreditsUsage


class WebhookDelivery(_Resource):
    id: str
    object: Literal["webhook_delivery"]
    event_type: str
    webhook_id: str
    attempt: int
    status_code: int | None
    latency_ms: int | None
    error: str | None
    attempted_at: Timestamp | None
    next_attempt_at: Timestamp | None


class Redelivery(_Resource):
    object: Literal["webhook_event"]
    webhook_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: Timestamp | None


class Plan(_Resource):
    name: str
    monthly_credits: int
    rate_limit_per_minute: int
    daily_credit_limit: int | None = None
    overage_rate_usd: float | None
    #: A downgrade that applies at the period end.
    pending: str | None = None


class Credits(_Resource):
    balance: int
    remaining: int
    held: int
    monthly_grant: int
    monthly_remaining: int = 0
    free_signup_remaining: int
    used_this_period: int = 0


class Overage(_Resource):
    enabled: bool
    limit: int
    credits_this_period: int


class Period(_Resource):
    start: Timestamp | None
    end: Timestamp | None


class DailyLimit(_Resource):
    limit: int | None
    used: int
    reset_at: Timestamp | None


class Account(_Resource):
    id: str
    object: Literal["account"]
    email: str
    premium: bool
    plan: Plan
    credits: Credits
    overage: Overage
    period: Period
    daily_limit: DailyLimit



class LedgerEntry(_Resource):
    id: str
    object: Literal["ledger_entry"]
    kind: str
    amount: int
    held_change: int
    balance_after: int
    held_after: int
    job_id: str | None
    reason: str | None
    details: dict[str, Any] | None
    created_at: Timestamp


class WebhookSecret(_Resource):
    secret: str
    previous_secret_expires_at: Timestamp | None = None


class Model(_Resource):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    category: str
    mode: str
    provider: str
    default: bool
    capabilities: dict[str, Any]
    pricing: list[dict[str, Any]]
    fallbacks: list[str]


class Voice(_Resource):
    object: Literal["voice"]
    id: str
    name: str
    description: str
    gender: str
    language: str


class MediaResult(_Resource):
    """The finished file of a media generation, by a signed URL that needs no key."""

    url: str
    content_type: str
    duration_seconds: float | None
    width: int | None
    height: int | None


class MediaGeneration(_Resource):
    """``POST /v1/videos/generations`` and ``/v1/music/generations`` with ``?async=false``."""

    #: Unix seconds.
    created: int
    data: MediaResult
    model: str
    usage: CreditsUsage


class VideoError(_Resource):
    code: str
    message: str


class Video(_Resource):
    """OpenAI's Video object: a video job seen through ``/v1/videos`` (its id is the job's)."""

    id: str
    object: Literal["video"]
    status: Literal["queued", "in_progress", "completed", "failed"]
    progress: int = Field(ge=0, le=100)
    created_at: int
    completed_at: int | None
    expires_at: int | None
    model: str
    prompt: str | None
    seconds: str
    #: ``WxH``; null before a clip whose frame follows its input picture is rendered.
    size: str | None
    error: VideoError | None
    remixed_from_video_id: str | None


class VideoList(_Resource):
    object: Literal["list"]
    data: list[Video]
    first_id: str | None
    last_id: str | None
    has_more: bool
    next_cursor: str | None


class VideoDeleted(_Resource):
    id: str
    object: Literal["video.deleted"]
    deleted: bool


T = TypeVar("T")


class Collection(_Resource, Generic[T]):
    object: Literal["list"]
    data: list[T]


class Page(Collection[T], Generic[T]):
    has_more: bool
    next_cursor: str | None


class UsagePage(Page[LedgerEntry]):
    available: int


class Health(_Resource):
    status: str


class Readiness(_Resource):
    status: str
    checks: dict[str, str]


class CallbackReceived(_Resource):
    received: bool


def page(items: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": has_more,
            "next_cursor": items[-1]["id"] if has_more and items else None}
