"""OpenAI's image endpoints over the image job modes: ``POST /v1/images/generations`` is a
``text_to_image`` job, ``POST /v1/images/edits`` an ``image_to_image`` job (with its mask).

This module holds the compatible request bodies, their translation into job requests (what
is supported as is, what is mapped, what is refused naming the field), and the answer built
from the completed job. The shared machinery — idempotency, the wait, the 202, usage, signed
URLs, failures — is ``shared.compat``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session

from shared import assets, compat
from shared.errors import ValidationError
from shared.jobs.modes import MAX_COMPAT_IMAGES, ImageToImageRequest, TextToImageRequest
from shared.jobs.requests import ImageStyle, InputURL, JobRequestBase, Text, Upscale, describe_errors
from shared.settings import Settings
from shared.storage.base import Storage

GENERATIONS = "POST /v1/images/generations"
EDITS = "POST /v1/images/edits"
#: OpenAI's sizes the image models make; ``auto`` is the model's default (1024x1024).
CompatSize = Literal["auto", "512x512", "1024x1024", "1792x1024", "1024x1792"]
#: OpenAI's quality names: ``medium`` renders as ``standard``, ``high`` as ``hd``; ``auto`` is
#: the model's default (``standard``). ``xhigh`` and ``max`` are refused.
CompatQuality = Literal["auto", "low", "medium", "standard", "high", "hd"]
_QUALITY = {"low": "low", "medium": "standard", "standard": "standard", "high": "hd", "hd": "hd"}
ResponseFormat = Literal["url", "b64_json"]
#: ``b64_json`` answers carry the images inline: at most this many pixels in all (use ``url``).
MAX_INLINE_PIXELS = 40_000_000
#: Edit fields of the job request under the names the compatible request gives them.
EDIT_FIELDS = {"input_image_url": "image", "input_image_asset_id": "image", "mask_url": "mask",
               "mask_asset_id": "mask"}
_Count = Annotated[int, Field(ge=1, le=MAX_COMPAT_IMAGES)]


class _Compat(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    prompt: Text
    model: str | None = None
    n: _Count = 1
    size: CompatSize | None = None
    response_format: ResponseFormat = "url"
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None
    #: Recorded on the job as ``metadata.user``.
    user: Annotated[str, Field(max_length=500)] | None = None
    webhook_url: Annotated[str, Field(max_length=2048)] | None = None
    webhook_events: list[str] | None = None
    metadata: dict[str, str] | None = None


class ImageGenerationBody(_Compat):
    """``POST /v1/images/generations``: OpenAI's fields and Atelier's (``negative_prompt``,
    ``seed``, ``upscale``, ``webhook_url``, ``webhook_events``, ``metadata``)."""

    quality: CompatQuality | None = None
    style: ImageStyle | None = None
    negative_prompt: Text | None = None
    upscale: Upscale | None = None
    #: What the image models produce; other formats are refused.
    output_format: Literal["png"] | None = None


class ImageEditFields(_Compat):
    """``POST /v1/images/edits`` besides the files: ``image`` and ``mask`` are URLs or ``data:``
    URIs in a JSON body (with multipart they are the file parts)."""

    image: InputURL | None = None
    mask: InputURL | None = None
    strength: Annotated[float, Field(ge=0, le=1)] | None = None
    output_format: Literal["png"] | None = None


class _GenerationJob(TextToImageRequest):
    n: _Count = 1


class _EditJob(ImageToImageRequest):
    n: _Count = 1


def _common(body: _Compat) -> dict[str, Any]:
    metadata = dict(body.metadata or {})
    if body.user is not None:
        if metadata.setdefault("user", body.user) != body.user:
            raise ValidationError.field("user", "differs from metadata.user; give one of them")
    size = None if body.size in (None, "auto") else body.size
    _check_inline(body, size or "1024x1024", getattr(body, "upscale", None))
    return {"prompt": body.prompt, "model": body.model, "n": body.n, "seed": body.seed, "size": size,
            "webhook_url": body.webhook_url, "webhook_events": body.webhook_events, "metadata": metadata or None}


def _check_inline(body: _Compat, size: str, upscale: str | None) -> None:
    width, height = (int(v) for v in size.split("x"))
    factor = {"2x": 2, "4x": 4}.get(upscale or "", 1)
    if body.response_format == "b64_json" and body.n * width * height * factor**2 > MAX_INLINE_PIXELS:
        raise ValidationError.field("response_format", f"b64_json carries at most {MAX_INLINE_PIXELS:,} pixels "
                                                       f"in all; ask for url")


def _job(model: type[JobRequestBase], fields: dict[str, Any], names: Mapping[str, str]) -> JobRequestBase:
    try:
        return model.model_validate({k: v for k, v in fields.items() if v is not None})
    except PydanticValidationError as exc:
        raise compat.renamed(describe_errors(exc.errors(), ()), names) from None


def generation_request(body: ImageGenerationBody) -> JobRequestBase:
    """The ``text_to_image`` job of a generation request (``n`` up to 10 here, 4 on ``/v1/jobs``)."""
    fields = {**_common(body), "mode": "text_to_image", "negative_prompt": body.negative_prompt,
              "style": body.style, "upscale": body.upscale,
              "quality": None if body.quality in (None, "auto") else _QUALITY[body.quality]}
    return _job(_GenerationJob, fields, {})


def edit_request(body: ImageEditFields, *, image_sent: bool, mask_sent: bool) -> JobRequestBase:
    """The ``image_to_image`` job of an edit request; ``image_sent``/``mask_sent`` when the file
    came as a multipart part (the job then holds a placeholder id, filled by ``compat.submit``)."""
    for name, sent in (("image", image_sent), ("mask", mask_sent)):
        if sent and getattr(body, name) is not None:
            raise ValidationError.field(name, "give it as a file or as a URL, not both")
    if not image_sent and body.image is None:
        raise ValidationError.field("image", "is required: a file, an http(s) URL or a data: URI")
    fields = {**_common(body), "mode": "image_to_image", "strength": body.strength,
              "input_image_url": body.image, "input_image_asset_id": "ast_upload" if image_sent else None,
              "mask_url": body.mask, "mask_asset_id": "ast_upload" if mask_sent else None}
    return _job(_EditJob, fields, EDIT_FIELDS)


def answer(session: Session, storage: Storage, settings: Settings, account_id: str, job: Mapping[str, Any],
           response_format: str) -> dict[str, Any]:
    """OpenAI's ``ImagesResponse`` for a completed job: each image as a signed URL (valid
    ``ATELIER_SIGNED_URL_SECONDS``) or inline base64, with its size, and the credits used."""
    data = []
    for item in job["result"]["assets"]:
        image: dict[str, Any] = {"revised_prompt": job["prompt"], "width": item["width"], "height": item["height"]}
        if response_format == "b64_json":
            stored = assets.get_asset(session, account_id, item["id"])
            image["b64_json"] = base64.b64encode(b"".join(storage.iter_bytes(stored.storage_key))).decode()
        else:
            image["url"] = compat.content_url(settings, item["id"])
        data.append(image)
    return {"created": compat.created(job), "data": data, "model": job["model"], "usage": compat.usage(job)}
