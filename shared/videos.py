"""OpenAI's video API (``/v1/videos``) over Atelier's video jobs.

A video *is* a job of a video mode: it has the job's id (``job_…``), so ``GET /v1/jobs/{id}``,
its events, webhooks, cancel and the ledger all apply to it unchanged. This module turns
OpenAI's create fields into a job request, and a job's public view into OpenAI's Video object.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import compat, idempotency
from shared.catalog import Catalog
from shared.db.models import Asset, Job
from shared.db.pagination import paginate
from shared.errors import AtelierError, NotFound, VideoNotReady
from shared.jobs import lifecycle, modes, service
from shared.jobs.submit import Upload
from shared.media import stills
from shared.media.video_format import ASPECT_RATIOS, RESOLUTIONS, frame_size
from shared.settings import Settings
from shared.storage.base import Storage
from shared.views import job_view

ENDPOINT = "POST /v1/videos"
#: The job modes whose jobs are videos, listed and served by ``/v1/videos``.
VIDEO_MODES = tuple(name for name, spec in modes.MODES.items() if spec.outputs == ("video",))
#: OpenAI's defaults: a 4-second portrait clip.
DEFAULT_SECONDS = 4
DEFAULT_SIZE = "720x1280"
#: ``WxH`` → (resolution, aspect_ratio): every frame Atelier's video modes make, OpenAI's
#: 1280x720 and 720x1280 among them.
SIZES = {"{}x{}".format(*frame_size(r, a)): (r, a) for r in RESOLUTIONS for a in ASPECT_RATIOS}
_STATUS = {"queued": "queued", "running": "in_progress", "completed": "completed", "failed": "failed",
           "aborted": "failed"}
Variant = Literal["video", "thumbnail", "spritesheet"]
#: The job fields OpenAI's request names otherwise (for errors).
FIELD_NAMES = {"input_image_url": "input_reference", "input_image_asset_id": "input_reference",
               "duration_seconds": "seconds", "resolution": "size", "aspect_ratio": "size"}
#: Stands for the uploaded reference's asset id until ``shared.jobs.submit`` stores it.
UPLOAD_PLACEHOLDER = "ast_upload"


class InputReference(BaseModel):
    """OpenAI's reference object: a picture by URL (or ``data:`` URI), or an Atelier asset id."""

    model_config = ConfigDict(extra="forbid")

    image_url: str | None = None
    file_id: str | None = None

    @model_validator(mode="after")
    def _one(self) -> InputReference:
        if (self.image_url is None) == (self.file_id is None):
            raise ValueError("give one of image_url or file_id (an Atelier image asset id)")
        return self


class VideoCreate(BaseModel):
    """``POST /v1/videos``: OpenAI's fields, plus Atelier's ``webhook_url``; anything else is refused.
    ``input_reference`` as a file is the route's upload; here it is the reference object."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    model: str | None = None
    seconds: int | str = str(DEFAULT_SECONDS)
    #: Absent: OpenAI's 720x1280, or with a reference picture its own proportions at 720p.
    size: str | None = None
    input_reference: InputReference | None = None
    webhook_url: str | None = None

    @field_validator("seconds")
    @classmethod
    def _whole_seconds(cls, value: int | str) -> str:
        low, high = int(modes.VIDEO_SECONDS.low), int(modes.VIDEO_SECONDS.high)
        text = str(value).strip()
        if isinstance(value, bool) or not text.isdigit() or not low <= int(text) <= high:
            raise ValueError(f"must be a whole number of seconds from {low} to {high} "
                             f"(OpenAI's 4 and 8 work; 12 is longer than Atelier's video models make)")
        return str(int(text))

    @field_validator("size")
    @classmethod
    def _known_size(cls, value: str | None) -> str | None:
        if value is not None and value not in SIZES:
            raise ValueError(f"must be one of {', '.join(SIZES)} (the frames Atelier's video models make: "
                             f"480p, 720p or 1080p at 16:9, 9:16, 1:1, 4:3 or 3:4)")
        return value

    def job_request(self, *, uploaded_reference: bool = False) -> modes.JobRequestBase:
        """A ``text_to_video`` job, or ``image_to_video`` (a camera move over the picture) with a
        reference; ``uploaded_reference``: the picture is a file sent with the request."""
        fields: dict[str, Any] = {"prompt": self.prompt, "model": self.model, "webhook_url": self.webhook_url,
                                  "duration_seconds": float(self.seconds), "mode": "text_to_video"}
        reference = self.input_reference
        if uploaded_reference:
            fields.update(mode="image_to_video", input_image_asset_id=UPLOAD_PLACEHOLDER)
        elif reference is not None:
            fields.update(mode="image_to_video", input_image_asset_id=reference.file_id,
                          input_image_url=reference.image_url)
        if self.size is not None or fields["mode"] == "text_to_video":
            fields["resolution"], fields["aspect_ratio"] = SIZES[self.size or DEFAULT_SIZE]
        try:
            return modes.parse(fields)
        except AtelierError as exc:
            raise compat.renamed(exc, FIELD_NAMES) from None


# -- the Video object ---------------------------------------------------------------------------

def _unix(value: str | None) -> int | None:
    return compat.unix_seconds(value) if value else None


def _seconds(view: dict[str, Any], video: dict[str, Any] | None) -> str:
    requested = view["inputs"].get("duration_seconds")
    if requested is not None:
        return f"{float(requested):g}"
    if video is not None and video.get("duration_seconds") is not None:
        return f"{round(video['duration_seconds'], 2):g}"
    # A talking clip lasts as long as its voice: the estimate it was priced on.
    lines = (view.get("pricing") or {}).get("estimate", {}).get("breakdown", [])
    quantity = next((line["quantity"] for line in lines if line["component"] == "video"), 0)
    return f"{round(quantity, 2):g}"


def _size(view: dict[str, Any], video: dict[str, Any] | None) -> str | None:
    if video is not None and video.get("width"):
        return f"{video['width']}x{video['height']}"
    inputs = view["inputs"]
    if inputs.get("resolution") and inputs.get("aspect_ratio"):
        return "{}x{}".format(*frame_size(inputs["resolution"], inputs["aspect_ratio"]))
    return None  # the frame follows the input picture: known once rendered


def _error(view: dict[str, Any]) -> dict[str, Any] | None:
    if view["status"] == "aborted":
        return {"code": "JOB_ABORTED", "message": "The video's job was cancelled."}
    error: dict[str, Any] | None = view.get("error")
    return {"code": error["code"], "message": error["message"]} if error else None


def video_view(view: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's Video object from a video job's public view (``shared.views.job_view``)."""
    results = (view.get("result") or {}).get("assets", [])
    video = next((a for a in results if a["kind"] == "video"), None)
    return {
        "id": view["id"], "object": "video", "status": _STATUS[view["status"]], "progress": view["progress"],
        "created_at": compat.created(view),
        "completed_at": _unix(view["completed_at"]) if view["status"] in ("completed", "failed", "aborted")
        else None,
        # Atelier keeps results until they are deleted.
        "expires_at": None,
        "model": view["model"], "prompt": view["prompt"],
        "seconds": _seconds(view, video), "size": _size(view, video),
        "error": _error(view), "remixed_from_video_id": None,
    }


# -- the operations -----------------------------------------------------------------------------

def create(session: Session, storage: Storage, settings: Settings, catalog: Catalog, account_id: str,
           form: VideoCreate, *, reference: Upload | None, idempotency_key: str | None,
           api_key_id: str | None) -> idempotency.Outcome:
    """The video's job, created once per idempotency key; the answer is the Video object (200, as
    OpenAI answers). ``reference``: the reference picture sent as a file."""
    request = form.job_request(uploaded_reference=reference is not None)
    uploads = {"input_image_asset_id": reference} if reference is not None else None
    outcome = compat.submit(session, storage, settings, catalog, account_id, request, endpoint=ENDPOINT,
                            idempotency_key=idempotency_key, api_key_id=api_key_id, uploads=uploads,
                            field_names=FIELD_NAMES)
    return idempotency.Outcome(200, video_view(outcome.body), outcome.replayed)


def get_video(session: Session, account_id: str, video_id: str) -> Job:
    job = service.get_job(session, account_id, video_id)
    if job.mode not in VIDEO_MODES:
        raise NotFound(f"No video {video_id}.")
    return job


def retrieve(session: Session, settings: Settings, account_id: str, video_id: str) -> dict[str, Any]:
    return video_view(job_view(get_video(session, account_id, video_id), settings.base_url))


def list_videos(session: Session, settings: Settings, account_id: str, *, limit: int, after: str | None,
                order: Literal["asc", "desc"]) -> dict[str, Any]:
    """OpenAI's list (``first_id``, ``last_id``, ``has_more``), with Atelier's ``next_cursor``."""
    stmt = select(Job).where(Job.account_id == account_id, Job.mode.in_(VIDEO_MODES))
    page = paginate(session, stmt, Job, account_id=account_id, after=after, limit=limit,
                            oldest_first=order == "asc")
    data = [video_view(job_view(job, settings.base_url)) for job in page.items]
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return {"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": page.has_more,
            "next_cursor": last if page.has_more else None}


def delete(session: Session, storage: Storage, account_id: str, video_id: str) -> dict[str, Any]:
    """As ``DELETE /v1/jobs/{id}``: a queued or finished video goes with its media (409 running)."""
    get_video(session, account_id, video_id)
    lifecycle.delete_job(session, storage, account_id, video_id)
    return {"id": video_id, "object": "video.deleted", "deleted": True}


def video_asset(session: Session, account_id: str, video_id: str) -> Asset:
    """The rendered MP4 of a completed video."""
    job = get_video(session, account_id, video_id)
    if job.status != "completed":
        raise VideoNotReady(f"Video {video_id} is {_STATUS[job.status]}; its content is there once it "
                            f"is completed.", details={"status": _STATUS[job.status]})
    found = next((a for a in job.results if a.kind == "video"), None)
    if found is None:
        raise NotFound(f"Video {video_id} has no rendered file.")
    return found


def still(storage: Storage, asset: Asset, variant: Variant) -> tuple[bytes, str]:
    """(bytes, content type) of a thumbnail or spritesheet of the rendered video, made on request."""
    with tempfile.TemporaryDirectory(prefix="atelier-still-") as tmp:
        path = Path(tmp) / "video"
        storage.download_to(asset.storage_key, path)
        if variant == "thumbnail":
            return stills.thumbnail(path), stills.THUMBNAIL_TYPE
        return stills.spritesheet(path), stills.SPRITESHEET_TYPE
