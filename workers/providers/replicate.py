"""Replicate through its predictions API.

The protocol, as Replicate documents it (replicate.com/docs, HTTP API reference):

* ``POST {base}/models/{owner}/{name}/predictions`` with ``{"input": {...}}`` runs a model's
  latest version; ``POST {base}/predictions`` with ``{"version": "<id>", "input": {...}}`` a
  pinned one. ``Authorization: Bearer <token>``. Optional ``webhook`` and
  ``webhook_events_filter`` (start | output | logs | completed). → 201, a prediction
  ``{id, status, urls: {get, cancel, ...}, logs, output, error}``.
* ``GET urls.get`` → the prediction; ``status`` is starting | processing | succeeded |
  failed | canceled; ``output`` holds file URLs (a string, a list, or an object of them).
* ``POST urls.cancel`` stops it.

Errors are RFC 7807 problem details ``{title, detail, status}``. ``Prefer: wait`` (hold the
request up to 60 s) is deliberately not used: a worker slot must not wait on a model.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from workers.providers.base import (
    GenerationFailed,
    GenerationRequest,
    JobContext,
    PollResult,
    ProviderError,
    UpstreamHandle,
    UpstreamUnavailable,
)
from workers.providers.http import (
    MAX_DOWNLOAD_BYTES,
    CallbackURL,
    UpstreamHTTP,
    exact_aspect_ratio,
    input_reference,
    parse_size,
    percent_from_logs,
    poll_outcome,
    unsupported_mode,
)

#: The ratios the FLUX models on Replicate accept.
_ASPECT_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
_VERSION_ID = re.compile(r"[0-9a-f]{64}")


class ReplicateProvider:
    """``UpstreamProvider`` for Replicate models (flux, musicgen, minimax video, ...).

    ``provider_model`` is ``owner/name`` (latest version) or ``owner/name:version``.
    ``callback_url`` builds the per-job URL sent as ``webhook`` (None: polling only).
    """

    name = "replicate"

    def __init__(
        self,
        token: str,
        base_url: str = "https://api.replicate.com/v1",
        client: httpx.Client | None = None,
        *,
        callback_url: CallbackURL | None = None,
        allow_private_urls: bool = False,
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._callback_url = callback_url
        self._http = UpstreamHTTP.with_credential(
            self.name,
            "Bearer",
            token,
            client,
            allow_private_urls=allow_private_urls,
            max_download_bytes=max_download_bytes,
        )

    def __repr__(self) -> str:
        return f"ReplicateProvider(base_url={self._base_url!r})"

    # --- UpstreamProvider ---------------------------------------------------------------

    def submit(self, request: GenerationRequest) -> UpstreamHandle:
        model, _, version = request.provider_model.partition(":")
        body: dict[str, Any] = {"input": self._input(request)}
        if version or _VERSION_ID.fullmatch(model):
            url = f"{self._base_url}/predictions"
            body["version"] = version or model
        else:
            url = f"{self._base_url}/models/{model.strip('/')}/predictions"
        webhook = self._callback_url(request) if self._callback_url else None
        if webhook:
            body["webhook"] = webhook
            body["webhook_events_filter"] = ["completed"]
        prediction = self._http.json("POST", url, json=body)
        prediction_id = prediction.get("id") if isinstance(prediction, dict) else None
        if not isinstance(prediction_id, str) or not prediction_id:
            raise UpstreamUnavailable("replicate: the prediction answer carries no id")
        urls = prediction.get("urls") if isinstance(prediction.get("urls"), dict) else {}
        own = f"{self._base_url}/predictions/{prediction_id}"
        # Only URLs on the API host get our token; anything else in the answer is ignored.
        return UpstreamHandle(
            provider=self.name,
            request_id=prediction_id,
            data={
                "get_url": self._http.own_url(urls.get("get"), self._base_url, own),
                "cancel_url": self._http.own_url(urls.get("cancel"), self._base_url, f"{own}/cancel"),
            },
        )

    @poll_outcome
    def poll(self, handle: UpstreamHandle, ctx: JobContext) -> PollResult:
        prediction = self._http.json("GET", handle.data["get_url"])
        status = prediction.get("status") if isinstance(prediction, dict) else None
        if status == "starting":
            return PollResult(state="pending", progress=0.0)
        if status == "processing":
            percent = percent_from_logs(str(prediction.get("logs") or ""))
            return PollResult(state="pending", progress=min(percent, 99.0) if percent is not None else None)
        if status == "succeeded":
            return self._finish(prediction.get("output"), ctx)
        if status == "failed":
            error = prediction.get("error") or "the prediction failed"
            return PollResult(state="failed", error=GenerationFailed(f"replicate: {error}"))
        if status in ("canceled", "aborted"):
            return PollResult(state="failed", error=GenerationFailed(f"replicate: the prediction was {status}"))
        raise UpstreamUnavailable(f"replicate: unexpected prediction status {status!r}")

    def cancel(self, handle: UpstreamHandle) -> None:
        # A finished prediction cannot be canceled; that is not a failure of ours.
        self._http.cancel("POST", handle.data["cancel_url"], tolerated=(404, 409, 422))

    # --- internals ----------------------------------------------------------------------

    def _finish(self, output: Any, ctx: JobContext) -> PollResult:
        urls = _output_urls(output)
        if not urls:
            return PollResult(state="failed", error=GenerationFailed("replicate: the prediction has no output files"))
        outputs = []
        for index, url in enumerate(urls):
            ctx.check_cancelled()
            outputs.append(self._http.download(url, ctx.workdir / f"replicate-output-{index}").as_output())
        return PollResult(state="completed", progress=100.0, outputs=outputs)

    def _input(self, request: GenerationRequest) -> dict[str, Any]:
        """Our request → the model's documented input schema."""
        p = request.params
        model = request.provider_model.lower()
        body: dict[str, Any]
        if request.mode == "text_to_image":
            width, height = parse_size(str(p.get("size") or "1024x1024"))
            body = {
                "prompt": request.prompt,
                "num_outputs": int(p.get("n") or 1),
                "aspect_ratio": _aspect_ratio(width, height),
                "output_format": _image_format(p.get("output_format")),
            }
            if "flux" in model and max(width, height) <= 512:
                body["megapixels"] = "0.25"
            if "flux" not in model:  # FLUX takes no negative prompt
                _put(body, "negative_prompt", p.get("negative_prompt"))
        elif request.mode == "image_to_image":
            image = request.inputs.get("image")
            if image is None:
                raise ProviderError("mode 'image_to_image' needs an input image")
            body = {
                "prompt": request.prompt,
                "image": input_reference(image),
                "num_outputs": 1,
                "output_format": _image_format(p.get("output_format")),
            }
            _put(body, "prompt_strength", p.get("strength"))
        elif request.mode == "music":
            body = {
                "prompt": request.prompt,
                "duration": int(p.get("duration_seconds") or 30),
                "output_format": "mp3" if p.get("output_format") == "mp3" else "wav",
            }
        elif request.mode == "text_to_video":
            body = {"prompt": request.prompt}
            if "hailuo" in model:  # Hailuo takes 6 or 10 seconds
                body["duration"] = 6 if float(p.get("duration_seconds") or 5) <= 6 else 10
        else:
            raise unsupported_mode(f"replicate ({request.provider_model})", request.mode)
        _put(body, "seed", p.get("seed"))
        return body


def _put(body: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        body[key] = value


def _aspect_ratio(width: int, height: int) -> str:
    """The ``w:h`` FLUX on Replicate takes for width x height; another size is refused, not bent to
    the nearest ratio (the catalog's ``sizes`` refuses it earlier, when the job is created)."""
    ratio = exact_aspect_ratio(width, height)
    if ratio not in _ASPECT_RATIOS:
        raise ProviderError(f"replicate: size {width}x{height} is not one of the aspect ratios the model takes "
                            f"({', '.join(_ASPECT_RATIOS)})")
    return ratio


def _image_format(value: Any) -> str:
    return {"webp": "webp", "jpeg": "jpg", "jpg": "jpg"}.get(str(value).lower(), "png")


def _output_urls(output: Any) -> list[str]:
    """File URLs in a prediction's output, whatever its shape (string, list, object)."""
    urls: list[str] = []

    def visit(value: Any) -> None:
        if isinstance(value, str):
            if value.startswith(("https://", "http://", "data:")) and value not in urls:
                urls.append(value)
        elif isinstance(value, list):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)

    visit(output)
    return urls
