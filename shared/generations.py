"""AI Magicx's media endpoints over Atelier's job modes: ``POST /v1/videos/generations`` is a
``text_to_video``, ``image_to_video`` or ``video_to_video`` job, ``POST /v1/music/generations``
a ``music`` or ``audio_to_audio`` job.

The bodies use the job modes' own field names (``duration_seconds``, ``resolution``, ``fps``,
…); what differs is the mode's name (``text_to_music`` is ``music``) and the sources, given as
URLs or ``data:`` URIs (``source_image`` is the job's ``input_image_url``). Every field is
checked by the job mode's own request model, so a field the mode does not take is a 400
naming it, under the name the caller sent. A mode the registry does not have is a 400 naming
``mode``. The shared machinery — idempotency, the wait, the 202, usage, signed URLs — is
``shared.compat``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared import compat
from shared.errors import AtelierError, ValidationError
from shared.jobs import modes
from shared.jobs.requests import JobRequestBase
from shared.settings import Settings

VIDEOS = "POST /v1/videos/generations"
MUSIC = "POST /v1/music/generations"
#: The job fields the sources fill, and the compatible names of job fields (for errors).
VIDEO_SOURCES = {"input_image_url": "source_image", "input_video_url": "source_video"}
VIDEO_NAMES = {**VIDEO_SOURCES, "input_image_asset_id": "source_image", "input_video_asset_id": "source_video"}
MUSIC_SOURCES = {"input_audio_url": "source_audio"}
MUSIC_NAMES = {**MUSIC_SOURCES, "input_audio_asset_id": "source_audio"}
_MUSIC_MODES = {"text_to_music": "music", "audio_to_audio": "audio_to_audio"}


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    prompt: str | None = None
    model: str | None = None
    duration_seconds: float | None = None
    negative_prompt: str | None = None
    #: How far a rework departs from its source (``video_to_video``, ``audio_to_audio``).
    strength: float | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None
    webhook_url: str | None = None
    webhook_events: list[str] | None = None
    metadata: dict[str, str] | None = None


class VideoGenerationBody(_Common):
    """AI Magicx's video fields (``duration_seconds`` 1–10) and Atelier's webhook and metadata."""

    #: Absent: ``image_to_video`` with a ``source_image``, ``video_to_video`` with a
    #: ``source_video``, else ``text_to_video``.
    mode: Literal["text_to_video", "image_to_video", "video_to_video"] | None = None
    resolution: str | None = None
    fps: int | None = None
    aspect_ratio: str | None = None
    loop: bool | None = None
    #: An http(s) URL or a ``data:`` URI.
    source_image: str | None = None
    source_video: str | None = None


class MusicGenerationBody(_Common):
    """AI Magicx's music fields (``duration_seconds`` 1–47) and Atelier's webhook and metadata."""

    #: Absent: ``audio_to_audio`` with a ``source_audio``, else ``text_to_music``.
    mode: Literal["text_to_music", "audio_to_audio"] | None = None
    output_format: str | None = None
    source_audio: str | None = None


def _job_request(mode: str, fields: dict[str, Any], names: Mapping[str, str]) -> JobRequestBase:
    if mode not in modes.MODE_NAMES:
        raise ValidationError.field("mode", f"{mode} is not available yet")
    try:
        return modes.parse({"mode": mode, **fields})
    except AtelierError as exc:
        raise compat.renamed(exc, names) from None


def video_request(body: VideoGenerationBody) -> JobRequestBase:
    mode = body.mode or ("image_to_video" if body.source_image is not None
                         else "video_to_video" if body.source_video is not None else "text_to_video")
    fields = body.model_dump(exclude_none=True, exclude={"mode", "source_image", "source_video"})
    fields.update({job: getattr(body, name) for job, name in VIDEO_SOURCES.items() if getattr(body, name) is not None})
    return _job_request(mode, fields, VIDEO_NAMES)


def music_request(body: MusicGenerationBody) -> JobRequestBase:
    fields = body.model_dump(exclude_none=True, exclude={"mode", "source_audio"})
    if body.source_audio is not None:
        fields["input_audio_url"] = body.source_audio
    mode = body.mode or ("audio_to_audio" if body.source_audio is not None else "text_to_music")
    return _job_request(_MUSIC_MODES[mode], fields, MUSIC_NAMES)


def answer(view: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """The synchronous answer of a completed job: its one result by signed URL, with usage."""
    (result,) = view["result"]["assets"]
    return {"created": compat.created(view), "model": view["model"], "usage": compat.usage(view),
            "data": {"url": compat.content_url(settings, result["id"]), "content_type": result["content_type"],
                     "duration_seconds": result["duration_seconds"], "width": result["width"],
                     "height": result["height"]}}
