"""OpenAI images and speech.

The protocol, as OpenAI documents it (API reference, "Images" and "Audio"):

* ``POST {base}/images/generations``, JSON ``{model, prompt, n, size, output_format?}`` →
  ``{data: [{b64_json}]}``. GPT image models always answer base64; DALL·E models do so when
  asked with ``response_format: "b64_json"``. Sizes for GPT image models: 1024x1024,
  1536x1024, 1024x1536.
* ``POST {base}/images/edits``, multipart: ``image`` (file), ``prompt``, ``model``, ``n``,
  ``size`` → the same answer.
* ``POST {base}/audio/speech``, JSON ``{model, input, voice, response_format, speed}`` → the
  audio bytes (mp3 by default; also wav, opus, aac, flac, and pcm: raw 24 kHz 16-bit samples).
* ``POST {base}/audio/transcriptions``, multipart: ``file``, ``model``, ``response_format:
  verbose_json``, ``timestamp_granularities[]`` (segment, word), ``language`` →
  ``{task, language, duration, text, segments: [{id, start, end, text, …}], words: [{word,
  start, end}]}``.

``Authorization: Bearer <key>``; errors are ``{"error": {message, type, param, code}}``.

These endpoints are synchronous, so the paid call happens in the first ``poll``: ``submit``
only validates the request and records the call in ``handle.data`` (JSON, no network). A
retried ``submit`` therefore costs nothing and can never create a second generation, and
the result is written straight into ``ctx.workdir`` by the worker that polls, not into a
temporary file another worker could not see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from shared.media.probe import RAW_PCM
from shared.media.voices import VoiceId, as_voice_id
from workers.providers import transcripts
from workers.providers.base import (
    GenerationFailed,
    GenerationRequest,
    InputFile,
    JobContext,
    PollResult,
    ProviderError,
    UpstreamHandle,
)
from workers.providers.http import (
    MAX_DOWNLOAD_BYTES,
    SavedFile,
    UpstreamHTTP,
    poll_outcome,
    unsupported_mode,
    write_base64,
)

#: Our voice ids → OpenAI's built-in voices (any other value is passed through as is).
VOICES: dict[VoiceId, str] = {"casual_male": "echo", "casual_female": "nova", "narrator": "onyx",
                              "news_anchor": "alloy"}
#: Image generation can take a minute or more; the answer arrives in one piece.
_READ_TIMEOUT = 180.0


class OpenAIProvider:
    """``UpstreamProvider`` for OpenAI image generation/editing and text-to-speech."""

    name = "openai"
    #: The worker puts the job's inputs in ``ctx.workdir`` before each poll (the call is made there).
    inputs_at_poll = True

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.openai.com/v1",
        client: httpx.Client | None = None,
        *,
        allow_private_urls: bool = False,
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._http = UpstreamHTTP.with_credential(
            self.name,
            "Bearer",
            api_key,
            client,
            read_timeout=_READ_TIMEOUT,
            allow_private_urls=allow_private_urls,
            max_download_bytes=max_download_bytes,
        )

    def __repr__(self) -> str:
        return f"OpenAIProvider(base_url={self._base_url!r})"

    # --- UpstreamProvider ---------------------------------------------------------------

    def submit(self, request: GenerationRequest) -> UpstreamHandle:
        return UpstreamHandle(provider=self.name, request_id=request.job_id, data={"call": self._call(request)})

    @poll_outcome  # a retryable error: the runner polls (that is: calls) again later
    def poll(self, handle: UpstreamHandle, ctx: JobContext) -> PollResult:
        call = handle.data["call"]
        url = f"{self._base_url}/{call['endpoint']}"
        ctx.check_cancelled()  # the next request is the paid one
        if call["endpoint"] == "audio/speech":
            # Raw samples have no header to recognise them by: they are what was asked for.
            raw = RAW_PCM if call["json"]["response_format"] == "pcm" else None
            saved = self._http.stream_to("POST", url, ctx.workdir / "openai-speech", json=call["json"],
                                         content_type=raw)
            return _completed([_expect(saved, "audio")])
        if call["endpoint"] == "audio/transcriptions":
            answer = self._upload(url, call, ctx)
            heard = transcripts.from_openai(answer, float(call["file"].get("duration") or 0.0))
            return PollResult(state="completed", progress=100.0, outputs=[transcripts.write(heard, ctx.workdir)])
        if call["endpoint"] == "images/edits":
            answer = self._upload(url, call, ctx)
        else:
            answer = self._http.json("POST", url, json=call["json"])
        return _completed(self._save_images(answer, ctx))

    def cancel(self, handle: UpstreamHandle) -> None:
        """Nothing runs upstream between our calls: a call in flight ends with its poll."""

    # --- internals ----------------------------------------------------------------------

    def _call(self, request: GenerationRequest) -> dict[str, Any]:
        """Our request → the endpoint and its documented body, as JSON for the handle."""
        p = request.params
        model = request.provider_model
        if request.mode == "audio":
            voice_id = str(p.get("voice_id") or "casual_female")
            known = as_voice_id(voice_id)
            return {
                "endpoint": "audio/speech",
                "json": {
                    "model": model,
                    "input": p.get("voice_text") or request.prompt,
                    "voice": VOICES[known] if known else voice_id,
                    "response_format": str(p.get("output_format") or "mp3"),
                    "speed": float(p.get("speed", 1.0)),
                },
            }
        if request.mode == "transcription":
            return self._transcription(request)
        if request.mode not in ("text_to_image", "image_to_image"):
            raise unsupported_mode(f"openai ({model})", request.mode)
        fields: dict[str, Any] = {
            "model": model,
            "prompt": request.prompt,
            "n": int(p.get("n") or 1) if request.mode == "text_to_image" else 1,
            # As asked: a size the model cannot make was refused when the job was created (its
            # catalog entry's ``sizes``), so nothing is changed here.
            "size": str(p.get("size") or "1024x1024"),
        }
        if model.startswith("dall-e"):
            fields["response_format"] = "b64_json"
        elif str(p.get("output_format") or "").lower() in ("png", "jpeg", "webp"):
            fields["output_format"] = str(p["output_format"]).lower()
        if request.mode == "text_to_image":
            return {"endpoint": "images/generations", "json": fields}
        image = request.inputs.get("image")
        if image is None:
            raise ProviderError("mode 'image_to_image' needs an input image")
        return {
            "endpoint": "images/edits",
            "form": {key: str(value) for key, value in fields.items()},
            "file": _file("image", image),
        }

    def _transcription(self, request: GenerationRequest) -> dict[str, Any]:
        audio = request.inputs.get("audio")
        if audio is None:
            raise ProviderError("mode 'transcription' needs an input audio")
        form: dict[str, Any] = {"model": request.provider_model, "response_format": "verbose_json",
                                "timestamp_granularities[]": ["segment", "word"]}
        if request.params.get("language"):
            form["language"] = str(request.params["language"])
        return {"endpoint": "audio/transcriptions", "form": form,
                "file": {**_file("file", audio), "duration": audio.duration_seconds}}

    def _upload(self, url: str, call: dict[str, Any], ctx: JobContext) -> Any:
        """A multipart call carrying the job's input file (an edit's image, the audio to transcribe)."""
        file = call["file"]
        here = ctx.workdir / Path(file["path"]).name  # fetched again for this poll (``inputs_at_poll``)
        path = here if here.is_file() else Path(file["path"])
        if not path.is_file():
            if not file.get("url"):
                raise ProviderError("the input file is no longer on this worker and has no URL")
            # Our own storage's signed URL: trusted, so no private-address check.
            path = self._http.download(file["url"], ctx.workdir / "openai-input", check_url=False).path
        with path.open("rb") as f:
            files = {file["field"]: (path.name, f, file["content_type"])}
            return self._http.json("POST", url, data=call["form"], files=files)

    def _save_images(self, answer: Any, ctx: JobContext) -> list[SavedFile]:
        items = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(items, list) or not items:
            raise GenerationFailed("openai: the answer has no images")
        saved = []
        for index, item in enumerate(items):
            dest = ctx.workdir / f"openai-output-{index}"
            if isinstance(item, dict) and isinstance(item.get("b64_json"), str):
                file = write_base64(item["b64_json"], dest, max_bytes=self._http.max_download_bytes)
            elif isinstance(item, dict) and isinstance(item.get("url"), str):
                file = self._http.download(item["url"], dest)
            else:
                raise GenerationFailed("openai: an image in the answer has neither b64_json nor url")
            saved.append(_expect(file, "image"))
        return saved


def _file(field: str, item: InputFile) -> dict[str, Any]:
    """An input sent as a multipart file: the local copy is read when the call is made; the
    signed URL is the fallback for a poll that runs on another worker."""
    return {"field": field, "path": str(item.path), "url": item.url, "content_type": item.content_type}


def _expect(saved: SavedFile, kind: str) -> SavedFile:
    if saved.kind != kind:
        saved.path.unlink(missing_ok=True)
        raise GenerationFailed(f"openai: expected {kind} but got {saved.content_type}")
    return saved


def _completed(files: list[SavedFile]) -> PollResult:
    return PollResult(state="completed", progress=100.0, outputs=[f.as_output() for f in files])
