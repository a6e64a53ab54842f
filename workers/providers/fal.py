"""fal.ai through its queue API.

The protocol, as fal documents it (docs.fal.ai, "Queue" and "Webhooks"):

* ``POST {queue}/{model_id}`` with ``Authorization: Key <key>`` and the model's input as the
  JSON body → ``{request_id, status_url, response_url, cancel_url}``; an optional
  ``?fal_webhook=<url>`` makes fal POST the result there when the request is done.
* ``GET .../requests/{id}/status?logs=1`` → ``{status: IN_QUEUE | IN_PROGRESS | COMPLETED,
  queue_position, logs: [{message, ...}]}``.
* ``GET .../requests/{id}`` → the model's output (files as ``{url, content_type, ...}``).
* ``PUT .../requests/{id}/cancel`` → 202 ``CANCELLATION_REQUESTED``, or 400
  ``ALREADY_COMPLETED``.

Status, result and cancel URLs use the model id *without* its subpath
(``fal-ai/flux/schnell`` → ``fal-ai/flux``). Errors are ``{"detail": str | [{loc, msg, type}]}``,
optionally with an ``X-Fal-Retryable`` header.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from shared.media.voices import VoiceId, as_voice_id
from workers.providers import transcripts
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
    input_reference,
    parse_size,
    percent_from_logs,
    poll_outcome,
    unsupported_mode,
)

_FAILED_STATES = {"FAILED", "ERROR", "CANCELED", "CANCELLED"}


class FalProvider:
    """``UpstreamProvider`` for fal.ai models (flux, stable-audio, f5-tts, hailuo, ...).

    ``callback_url`` builds the per-job URL passed as ``fal_webhook`` (None: polling only).
    ``voice_refs`` maps our voice ids to reference recordings for voice-cloning TTS (f5-tts).
    """

    name = "fal"

    def __init__(
        self,
        key: str,
        queue_url: str = "https://queue.fal.run",
        client: httpx.Client | None = None,
        *,
        callback_url: CallbackURL | None = None,
        voice_refs: Mapping[VoiceId, str] | None = None,
        allow_private_urls: bool = False,
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
    ) -> None:
        self._queue_url = queue_url.rstrip("/")
        self._callback_url = callback_url
        self._voice_refs = dict(voice_refs or {})
        self._http = UpstreamHTTP.with_credential(
            self.name,
            "Key",
            key,
            client,
            allow_private_urls=allow_private_urls,
            max_download_bytes=max_download_bytes,
        )

    def __repr__(self) -> str:
        return f"FalProvider(queue_url={self._queue_url!r})"

    # --- UpstreamProvider ---------------------------------------------------------------

    def submit(self, request: GenerationRequest) -> UpstreamHandle:
        body = self._input(request)
        model = request.provider_model.strip("/")
        webhook = self._callback_url(request) if self._callback_url else None
        params = {"fal_webhook": webhook} if webhook else {}
        answer = self._http.json("POST", f"{self._queue_url}/{model}", json=body, params=params)
        request_id = answer.get("request_id") if isinstance(answer, dict) else None
        if not isinstance(request_id, str) or not request_id:
            raise UpstreamUnavailable("fal: the submit answer carries no request_id")
        base = f"{self._queue_url}/{_app_id(model)}/requests/{request_id}"
        # Only URLs on the queue host get our key; anything else in the answer is ignored.
        return UpstreamHandle(
            provider=self.name,
            request_id=request_id,
            data={
                "model": model,
                **_transcribing(request),
                "status_url": self._http.own_url(answer.get("status_url"), self._queue_url, f"{base}/status"),
                "response_url": self._http.own_url(answer.get("response_url"), self._queue_url, base),
                "cancel_url": self._http.own_url(answer.get("cancel_url"), self._queue_url, f"{base}/cancel"),
            },
        )

    @poll_outcome
    def poll(self, handle: UpstreamHandle, ctx: JobContext) -> PollResult:
        status = self._http.json("GET", handle.data["status_url"], params={"logs": "1"})
        state = status.get("status") if isinstance(status, dict) else None
        if state == "IN_QUEUE":
            return PollResult(state="pending", progress=0.0)
        if state == "IN_PROGRESS":
            return PollResult(state="pending", progress=_progress(status))
        if state == "COMPLETED":
            return self._finish(handle, ctx)
        if state in _FAILED_STATES:
            return PollResult(state="failed", error=GenerationFailed(f"fal: request ended {state}"))
        raise UpstreamUnavailable(f"fal: unexpected queue status {state!r}")

    def cancel(self, handle: UpstreamHandle) -> None:
        # 400 ALREADY_COMPLETED / 404 NOT_FOUND: nothing is left to stop.
        self._http.cancel("PUT", handle.data["cancel_url"], tolerated=(400, 404, 409))

    # --- internals ----------------------------------------------------------------------

    def _finish(self, handle: UpstreamHandle, ctx: JobContext) -> PollResult:
        response = self._http.request("GET", handle.data["response_url"], check=False)
        if not response.is_success:
            error = self._http.error(response)
            if error.retryable and response.headers.get("x-fal-retryable", "").lower() != "false":
                raise error
            if response.status_code in (401, 403, 404):
                return PollResult(state="failed", error=error)
            # fal stores the runner's error and answers it here: the generation failed.
            return PollResult(state="failed", error=GenerationFailed(error.message))
        try:
            result = response.json()
        except ValueError:
            raise UpstreamUnavailable("fal: the result is not JSON") from None
        if "transcribe_seconds" in handle.data:  # the answer is the transcript itself, not files
            heard = transcripts.from_fal(result, float(handle.data["transcribe_seconds"] or 0.0))
            return PollResult(state="completed", progress=100.0, outputs=[transcripts.write(heard, ctx.workdir)])
        files = _output_files(result)
        if not files:
            return PollResult(state="failed", error=GenerationFailed("fal: the result has no output files"))
        outputs = []
        for index, (url, hint) in enumerate(files):
            ctx.check_cancelled()
            saved = self._http.download(url, ctx.workdir / f"fal-output-{index}", content_type_hint=hint)
            outputs.append(saved.as_output())
        return PollResult(state="completed", progress=100.0, outputs=outputs)

    def _input(self, request: GenerationRequest) -> dict[str, Any]:
        """Our request → the model's documented input schema."""
        p = request.params
        model = request.provider_model
        body: dict[str, Any]
        if request.mode == "text_to_image":
            width, height = parse_size(str(p.get("size") or "1024x1024"))
            body = {
                "prompt": request.prompt,
                "image_size": {"width": width, "height": height},
                "num_images": int(p.get("n") or 1),
            }
            _put(body, "negative_prompt", p.get("negative_prompt"))
            _put(body, "output_format", _image_format(p.get("output_format")))
        elif request.mode == "image_to_image":
            body = {
                "prompt": request.prompt,
                "image_url": input_reference(_required_input(request, "image")),
                "num_images": 1,
            }
            _put(body, "strength", p.get("strength"))
        elif request.mode == "audio" and "f5-tts" in model:
            body = {
                "gen_text": p.get("voice_text") or request.prompt,
                "ref_audio_url": self._reference_voice(request),
                "model_type": "F5-TTS",
            }
        elif request.mode == "transcription":
            body = {"audio_url": input_reference(_required_input(request, "audio")), "task": "transcribe",
                    "chunk_level": "segment"}
            _put(body, "language", p.get("language"))
            return body  # whisper takes no seed
        elif request.mode == "music":
            body = {"prompt": request.prompt, "seconds_total": int(p.get("duration_seconds") or 30)}
        elif request.mode == "text_to_video":
            body = {"prompt": request.prompt}
            if "hailuo" in model:  # Hailuo takes the enum "6" | "10"
                body["duration"] = "6" if float(p.get("duration_seconds") or 5) <= 6 else "10"
        else:
            raise unsupported_mode(f"fal ({model})", request.mode)
        _put(body, "seed", p.get("seed"))
        return body

    def _reference_voice(self, request: GenerationRequest) -> str:
        """f5-tts clones a recording: an audio input, else the one configured for the voice."""
        if "audio" in request.inputs:
            return input_reference(request.inputs["audio"])
        voice_id = str(request.params.get("voice_id") or "")
        known = as_voice_id(voice_id)
        reference = self._voice_refs.get(known) if known else None
        if not reference:
            raise ProviderError(f"fal f5-tts needs a reference recording; none is configured for voice {voice_id!r}")
        return reference


def _transcribing(request: GenerationRequest) -> dict[str, Any]:
    """What ``_finish`` needs to turn a transcription's result into a transcript: the audio's length."""
    if request.mode != "transcription":
        return {}
    audio = request.inputs.get("audio")
    return {"transcribe_seconds": audio.duration_seconds if audio else None}


def _app_id(model: str) -> str:
    """``owner/app/sub/path`` → ``owner/app``: the queue's status/result/cancel namespace."""
    return "/".join(model.split("/")[:2])


def _put(body: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        body[key] = value


def _image_format(value: Any) -> str | None:
    return {"png": "png", "jpeg": "jpeg", "jpg": "jpeg"}.get(str(value).lower()) if value else None


def _required_input(request: GenerationRequest, role: str) -> Any:
    if role not in request.inputs:
        raise ProviderError(f"mode {request.mode!r} needs an input {role}")
    return request.inputs[role]


def _progress(status: dict[str, Any]) -> float | None:
    logs = status.get("logs") or []
    text = "\n".join(str(entry.get("message", "")) for entry in logs if isinstance(entry, dict))
    percent = percent_from_logs(text)
    return min(percent, 99.0) if percent is not None else None


def _output_files(result: Any) -> list[tuple[str, str | None]]:
    """Every file object (``{url, content_type?}``) at the top of a fal result, in order."""
    files: list[tuple[str, str | None]] = []

    def add(value: Any) -> None:
        if isinstance(value, dict) and isinstance(value.get("url"), str) and value["url"]:
            hint = value.get("content_type")
            entry = (value["url"], hint if isinstance(hint, str) else None)
            if entry not in files:
                files.append(entry)

    if isinstance(result, dict):
        for value in result.values():
            for item in value if isinstance(value, list) else [value]:
                add(item)
    return files
