"""OpenAI's images (generations, multipart edits) and speech endpoints."""

from __future__ import annotations

import base64
import io
import time
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import av

from tests.providers.fakes.server import (
    FakeServer,
    Recorded,
    Reply,
    json_reply,
    mp3_bytes,
    png_bytes,
    wav_bytes,
)

OPENAI_VOICES = {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse"}
_GPT_IMAGE_SIZES = {"1024x1024", "1536x1024", "1024x1536", "auto"}


class FakeOpenAI(FakeServer):
    """OpenAI's /v1/images/generations, /v1/images/edits and /v1/audio/speech."""

    prefix = "/v1"

    def __init__(self, key: str = "sk-test-openai-0123456789") -> None:
        super().__init__(key)
        #: Answer 200 with an "image" whose bytes are not an image.
        self.broken_output = False
        #: Multipart edit requests as parsed: ``{"fields": {...}, "files": {name: (filename, bytes)}}``.
        self.edits: list[dict[str, Any]] = []
        #: Transcription requests as parsed, with their ``timestamp_granularities[]`` values.
        self.transcriptions: list[dict[str, Any]] = []

    @staticmethod
    def _error(
        status: int, message: str, type_: str, code: str | None = None, param: str | None = None, **headers: str
    ) -> Reply:
        return json_reply(
            status, {"error": {"message": message, "type": type_, "param": param, "code": code}}, **headers
        )

    def unauthorized(self, presented: str) -> Reply:
        shown = presented or "sk-tes***789"
        return self._error(401, f"Incorrect API key provided: {shown}.", "invalid_request_error", "invalid_api_key")

    def route(self, record: Recorded) -> Reply:
        if record.method != "POST":
            return self._error(404, "Not found", "invalid_request_error")
        if record.path in ("/v1/images/generations", "/v1/images/edits", "/v1/audio/speech",
                           "/v1/audio/transcriptions"):
            self.delay_submit()
            failure = self._injected_failure()
            if failure:
                return failure
        if record.path == "/v1/images/generations":
            return self._images(record.json())
        if record.path == "/v1/images/edits":
            fields, files = _parse_multipart(record)
            self.edits.append({"fields": fields, "files": files})
            if "image" not in files:
                return self._error(400, "Missing required parameter: 'image'.", "invalid_request_error", param="image")
            return self._images(fields)
        if record.path == "/v1/audio/speech":
            return self._speech(record.json())
        if record.path == "/v1/audio/transcriptions":
            return self._transcription(record)
        return self._error(404, f"Invalid URL (POST {record.path})", "invalid_request_error")

    def _injected_failure(self) -> Reply | None:
        if self.submit_error in (400, 422):
            return self._error(
                self.submit_error,
                "Your request was rejected as a result of our safety system.",
                "image_generation_user_error",
                "moderation_blocked",
            )
        if self.submit_error == 429:
            return self._error(
                429, "Rate limit reached for requests", "requests", "rate_limit_exceeded", Retry_After="3"
            )
        if self.submit_error:
            message = "The server had an error while processing your request. Sorry about that!"
            return self._error(self.submit_error, message, "server_error")
        return None

    def _images(self, body: dict[str, Any]) -> Reply:
        if not body.get("prompt"):
            return self._error(400, "Missing required parameter: 'prompt'.", "invalid_request_error", param="prompt")
        size = str(body.get("size", "1024x1024"))
        if str(body.get("model", "")).startswith("gpt-image") and size not in _GPT_IMAGE_SIZES:
            allowed = ", ".join(sorted(_GPT_IMAGE_SIZES))
            return self._error(
                400, f"Invalid value: '{size}'. Supported values are: {allowed}.", "invalid_request_error", param="size"
            )
        payload = b"this is not an image" if self.broken_output else png_bytes()
        data = [{"b64_json": base64.b64encode(payload).decode()} for _ in range(int(body.get("n", 1)))]
        return json_reply(200, {"created": int(time.time()), "data": data, "output_format": "png", "size": size})

    def _speech(self, body: dict[str, Any]) -> Reply:
        if not body.get("input"):
            return self._error(400, "Missing required parameter: 'input'.", "invalid_request_error", param="input")
        if body.get("voice") not in OPENAI_VOICES:
            return self._error(
                400, f"Invalid value for 'voice': {body.get('voice')!r}.", "invalid_request_error", param="voice"
            )
        speed = body.get("speed", 1.0)
        if not isinstance(speed, int | float) or not 0.25 <= speed <= 4:
            return self._error(400, f"Invalid value for 'speed': {speed!r}.", "invalid_request_error", param="speed")
        fmt = body.get("response_format", "mp3")
        if fmt == "wav":
            return Reply(200, wav_bytes(), "audio/wav")
        if fmt == "mp3":
            return Reply(200, mp3_bytes(), "audio/mpeg")
        if fmt == "pcm":  # 24 kHz 16-bit little-endian mono samples, no header
            return Reply(200, wav_bytes(rate=24000)[44:], "audio/pcm")
        return self._error(
            400, f"This fake only speaks mp3, wav and pcm, not {fmt!r}.", "invalid_request_error",
            param="response_format"
        )


    def _transcription(self, record: Recorded) -> Reply:
        """Whisper's answer about the uploaded audio: "Hello world.", timed over its real length."""
        fields, files = _parse_multipart(record)
        granularities = _repeated(record, "timestamp_granularities[]")
        self.transcriptions.append({"fields": fields, "files": files, "granularities": granularities})
        if "file" not in files:
            return self._error(400, "Missing required parameter: 'file'.", "invalid_request_error", param="file")
        try:
            with av.open(io.BytesIO(files["file"][1])) as container:
                duration = round(float(container.duration or 0) / av.time_base, 3)
        except av.FFmpegError:
            return self._error(400, "The audio file could not be decoded or its format is not supported.",
                               "invalid_request_error", param="file")
        if fields.get("response_format") != "verbose_json":
            return json_reply(200, {"text": "Hello world."})
        body: dict[str, Any] = {"task": "transcribe", "language": "english", "duration": duration,
                                "text": "Hello world."}
        if "segment" in granularities or not granularities:
            body["segments"] = [{"id": 0, "seek": 0, "start": 0.0, "end": duration, "text": " Hello world.",
                                 "tokens": [50364, 2425, 1002, 13], "temperature": 0.0, "avg_logprob": -0.2,
                                 "compression_ratio": 0.6, "no_speech_prob": 0.01}]
        if "word" in granularities:
            body["words"] = [{"word": "Hello", "start": 0.0, "end": round(duration / 2, 3)},
                             {"word": "world", "start": round(duration / 2, 3), "end": duration}]
        return json_reply(200, body)


def _repeated(record: Recorded, name: str) -> list[str]:
    head = f"Content-Type: {record.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + record.body)
    return [str(part.get_payload(decode=True).decode()) for part in message.iter_parts()
            if part.get_param("name", header="content-disposition") == name]


def _parse_multipart(record: Recorded) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    head = f"Content-Type: {record.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + record.body)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        filename = part.get_filename()
        if filename:
            files[str(name)] = (filename, payload)
        else:
            fields[str(name)] = payload.decode()
    return fields, files
