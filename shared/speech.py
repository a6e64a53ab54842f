"""OpenAI's text to speech (``POST /v1/audio/speech``) over the ``audio`` job mode.

The body is OpenAI's; it becomes an ``audio`` job (``voice_text`` = ``input``) through
``shared.compat.submit``, so the hold, the ledger, the Idempotency-Key, ``webhook_url`` and
``GET /v1/jobs/{id}`` all apply. ``input`` may be up to 4,096 characters, as OpenAI allows:
the audio mode accepts that much ``voice_text`` when the job is created here (its own limit,
through ``POST /v1/jobs``, stays 500). Nothing is ever cut short.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from shared import compat
from shared.jobs.modes import AudioRequest
from shared.jobs.requests import AudioFormat, check_storable, describe_errors, limited_text, rule
from shared.media.voices import VOICE_IDS, VoiceId, as_voice_id
from shared.settings import Settings

ENDPOINT = "POST /v1/audio/speech"
MAX_INPUT = 4096
#: OpenAI's voices → the Atelier voice that is closest (two voices per gender here, six there).
OPENAI_VOICES: dict[str, VoiceId] = {
    "alloy": "news_anchor", "echo": "casual_male", "fable": "narrator", "onyx": "narrator",
    "nova": "casual_female", "shimmer": "casual_female",
}
#: What the audio bytes are answered as, per ``response_format`` (OpenAI's types).
CONTENT_TYPES: dict[str, str] = {"mp3": "audio/mpeg", "wav": "audio/wav", "opus": "audio/opus", "aac": "audio/aac",
                                 "flac": "audio/flac", "pcm": "audio/pcm"}


def voice_id(value: str) -> VoiceId:
    """An OpenAI voice name or an Atelier voice id, as the Atelier voice that speaks it."""
    known = OPENAI_VOICES.get(value.lower()) or as_voice_id(value)
    if known is None:
        raise rule(f"must be one of {', '.join(OPENAI_VOICES)} or an Atelier voice ({', '.join(VOICE_IDS)})")
    return known


def _known_voice(value: str) -> str:
    voice_id(value)
    return value


class SpeechBody(BaseModel):
    """OpenAI's request, plus Atelier's job fields (``webhook_url``, ``webhook_events``,
    ``metadata``). ``instructions`` and anything else are refused, naming the field."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: Annotated[str, Field(min_length=1, max_length=200)]
    input: Annotated[str, AfterValidator(limited_text(MAX_INPUT))]
    voice: Annotated[str, Field(max_length=64), AfterValidator(_known_voice)]
    response_format: AudioFormat = "mp3"
    speed: Annotated[float, Field(ge=0.25, le=4)] = 1.0
    #: ``audio`` is what is answered; OpenAI's ``sse`` (a stream of events) is not offered.
    stream_format: Literal["audio"] | None = None
    webhook_url: Annotated[str, Field(max_length=2048)] | None = None
    webhook_events: list[str] | None = None
    metadata: dict[str, str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        if isinstance(data, dict):
            check_storable(data)
        return data



def job_request(body: SpeechBody) -> AudioRequest:
    """The ``audio`` job the body asks for (fields named as ``POST /v1/jobs`` names them)."""
    fields: dict[str, Any] = {
        "mode": "audio", "model": body.model, "voice_text": body.input, "voice_id": voice_id(body.voice),
        "output_format": body.response_format, "speed": body.speed, "webhook_url": body.webhook_url,
        "webhook_events": body.webhook_events, "metadata": body.metadata}
    try:
        return AudioRequest.model_validate(fields, context={"max_text": MAX_INPUT})
    except PydanticValidationError as exc:  # the job's own rules (webhook_events, metadata)
        raise describe_errors(exc.errors(), ()) from None


def answer_shape(body: SpeechBody) -> dict[str, Any]:
    """What shapes the answer beyond the job: the voice as asked (``fable`` and ``onyx`` are one
    Atelier voice, but a repeat with the other name is another request)."""
    return {"voice": body.voice}


def result(view: Mapping[str, Any]) -> Mapping[str, Any]:
    """The completed job's one audio asset (its view)."""
    (asset,) = view["result"]["assets"]
    return asset


def json_answer(view: Mapping[str, Any], settings: Settings, body: SpeechBody) -> dict[str, Any]:
    """AI Magicx's JSON answer: a signed URL to the audio instead of its bytes."""
    asset = result(view)
    return {"created": compat.created(view), "audio_url": compat.content_url(settings, asset["id"]),
            "duration_seconds": asset["duration_seconds"], "character_count": len(body.input),
            "model": view["model"], "usage": compat.usage(view)}
