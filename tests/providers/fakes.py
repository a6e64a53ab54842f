"""Loopback fakes of the upstream providers, for adapter and end-to-end tests.

Each fake is a threaded ``http.server`` on 127.0.0.1 that follows its provider's documented
protocol closely enough to exercise an adapter: fal's queue API, Replicate's predictions API,
OpenAI's images and speech endpoints. They serve the result files they refer to (a real
PNG, WAV, MP3 or H.264 MP4, a few KB each), check credentials (wrong key → 401), record
every request, and inject failures: an error status at submit (422/400, 429, 500), a slow
submit (``submit_delay``), a generation that fails upstream.

    with FakeFal() as fal:
        provider = FalProvider(fal.key, fal.base_url, allow_private_urls=True)

``allow_private_urls=True`` is needed because the fakes' file URLs are on loopback.

What a finished job returns follows the model id, as the real models do: fal ``*stable-audio*``
→ ``audio_file`` (WAV), ``*f5-tts*`` → ``audio_url`` (MP3), ``*video*``/``*hailuo*`` → ``video``
(MP4), anything else → ``images`` (``num_images`` PNGs); Replicate ``*musicgen*`` → a WAV or
MP3 URL, ``*video*``/``*hailuo*`` → an MP4 URL, anything else → ``num_outputs`` PNG URLs.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import uuid
import wave
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import av
import numpy as np
from PIL import Image

from workers.providers.base import JobAborted

# --- media ----------------------------------------------------------------------------------


@lru_cache
def png_bytes(width: int = 64, height: int = 48) -> bytes:
    x = np.linspace(0, 255, width, dtype=np.uint8)
    y = np.linspace(0, 255, height, dtype=np.uint8)
    rgb = np.stack(
        [np.tile(x, (height, 1)), np.tile(y[:, None], (1, width)), np.full((height, width), 128, np.uint8)], -1
    )
    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, "PNG")
    return buffer.getvalue()


def _tone(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


@lru_cache
def wav_bytes(seconds: float = 0.5, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((_tone(seconds, rate) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


@lru_cache
def mp3_bytes(seconds: float = 0.5, rate: int = 22050) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(_tone(seconds, rate).reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


@lru_cache
def mp4_bytes(frames: int = 10, size: int = 64, fps: int = 10) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            rgb = np.full((size, size, 3), (i * 20) % 256, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


# --- a tiny job context ---------------------------------------------------------------------


@dataclass
class FakeJobContext:
    """Enough of ``JobContext`` for adapter tests: a workdir, recorded progress, cancellation."""

    workdir: Path
    cancelled: bool = False
    reports: list[float] = field(default_factory=list)

    def progress(self, percent: float) -> None:
        self.check_cancelled()
        self.reports.append(percent)

    def check_cancelled(self) -> None:
        if self.cancelled:
            raise JobAborted("job cancelled")


# --- the server -------------------------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: Any, **headers: str) -> Reply:
    return Reply(status, json.dumps(payload).encode(), headers=dict(headers))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; don't stall on ACKs
    server: _Server

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        record = Recorded(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        reply = self.server.fake.handle(record)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a deliberately slow reply must not hold up stop()
    fake: FakeServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is expected here


class FakeServer:
    """Shared machinery: lifecycle, request log, file serving, auth, failure knobs."""

    prefix = ""
    auth_scheme = "Bearer"

    def __init__(self, key: str) -> None:
        self.key = key
        self.requests: list[Recorded] = []
        #: The next submits fail with this status and the provider's documented error body.
        self.submit_error: int | None = None
        #: Seconds a submit waits before answering (to provoke client timeouts).
        self.submit_delay = 0.0
        #: Put the presented credential into 401 bodies, to test that adapters scrub it.
        self.echo_key_in_errors = False
        self._files: dict[str, tuple[bytes, str]] = {}
        self._redirects: dict[str, str] = {}
        self._lock = threading.RLock()  # route() may serve files while holding it
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FakeServer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # stop() waits at most this long
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.root_url + self.prefix

    # bookkeeping
    def count(self, method: str | None = None, path_contains: str = "") -> int:
        with self._lock:
            return sum(1 for r in self.requests if (method is None or r.method == method) and path_contains in r.path)

    def serve_file(self, name: str, data: bytes, content_type: str) -> str:
        with self._lock:
            self._files[name] = (data, content_type)
        return f"{self.root_url}/files/{name}"

    def serve_redirect(self, name: str, location: str) -> str:
        """A file URL that answers 302 to ``location`` (CDNs do; the target may be hostile)."""
        with self._lock:
            self._redirects[name] = location
        return f"{self.root_url}/files/{name}"

    def handle(self, record: Recorded) -> Reply:
        with self._lock:
            self.requests.append(record)
        if record.path.startswith("/files/"):  # a CDN: no credentials needed
            name = record.path.removeprefix("/files/")
            if name in self._redirects:
                return Reply(302, b"", "text/plain", {"Location": self._redirects[name]})
            found = self._files.get(name)
            return Reply(200, found[0], found[1]) if found else Reply(404, b"not found", "text/plain")
        if record.headers.get("authorization") != f"{self.auth_scheme} {self.key}":
            presented = record.headers.get("authorization", "").partition(" ")[2]
            return self.unauthorized(presented if self.echo_key_in_errors else "")
        with self._lock:
            return self.route(record)

    def delay_submit(self) -> None:
        if self.submit_delay:
            self._lock.release()  # let other requests through while this one dawdles
            try:
                time.sleep(self.submit_delay)
            finally:
                self._lock.acquire()

    # provider specifics
    def unauthorized(self, presented: str) -> Reply:
        raise NotImplementedError

    def route(self, record: Recorded) -> Reply:
        raise NotImplementedError


def _new_id() -> str:
    return uuid.uuid4().hex


# --- fal ------------------------------------------------------------------------------------


class FakeFal(FakeServer):
    """fal's queue: POST /{model_id}; GET|PUT /{app_id}/requests/{id}[/status|/cancel]."""

    auth_scheme = "Key"

    def __init__(self, key: str = "fal-test-key-0123456789", *, queue_polls: int = 1, progress_polls: int = 1) -> None:
        super().__init__(key)
        self.queue_polls = queue_polls
        self.progress_polls = progress_polls
        #: The result endpoint answers this status with fal's error body (generation failed).
        self.generation_error: int | None = None
        #: The X-Fal-Retryable header sent with ``generation_error`` ("true"/"false"), if any.
        self.generation_retryable: str | None = None
        #: Submit answers carry status/response/cancel URLs on a foreign host.
        self.foreign_urls = False
        self.jobs: dict[str, dict[str, Any]] = {}
        self.cancels: list[str] = []

    def unauthorized(self, presented: str) -> Reply:
        detail = f"Invalid key: {presented}" if presented else "Unauthorized"
        return json_reply(401, {"detail": detail})

    def route(self, record: Recorded) -> Reply:
        segments = [s for s in record.path.split("/") if s]
        if "requests" in segments:
            at = segments.index("requests")
            app, request_id, tail = "/".join(segments[:at]), segments[at + 1 : at + 2], segments[at + 2 :]
            job = self.jobs.get(request_id[0]) if request_id else None
            if job is None or job["app"] != app:  # the status namespace has no subpath
                return json_reply(404, {"detail": "Request not found"})
            if record.method == "GET" and tail == ["status"]:
                return self._status(job, record.query.get("logs") == "1")
            if record.method == "GET" and not tail:
                return self._result(job)
            if record.method == "PUT" and tail == ["cancel"]:
                return self._cancel(job)
            return json_reply(405, {"detail": "Method not allowed"})
        if record.method == "POST" and len(segments) >= 2:
            return self._submit("/".join(segments), record)
        return json_reply(404, {"detail": "Not found"})

    def _submit(self, model: str, record: Recorded) -> Reply:
        self.delay_submit()
        if self.submit_error == 422:
            return json_reply(
                422, {"detail": [{"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"}]}
            )
        if self.submit_error == 429:
            return json_reply(429, {"detail": "Too many concurrent requests"}, Retry_After="3")
        if self.submit_error:
            return json_reply(self.submit_error, {"detail": "Internal server error"})
        request_id = str(uuid.uuid4())
        app = "/".join(model.split("/")[:2])
        self.jobs[request_id] = {
            "id": request_id,
            "model": model,
            "app": app,
            "input": record.json(),
            "webhook": record.query.get("fal_webhook"),
            "polls": 0,
            "completed": False,
            "canceled": False,
        }
        host = "http://203.0.113.7" if self.foreign_urls else self.root_url
        base = f"{host}/{app}/requests/{request_id}"
        return json_reply(
            200,
            {
                "request_id": request_id,
                "response_url": base,
                "status_url": f"{base}/status",
                "cancel_url": f"{base}/cancel",
                "queue_position": self.queue_polls,
            },
        )

    def _status(self, job: dict[str, Any], with_logs: bool) -> Reply:
        job["polls"] += 1
        n = job["polls"]
        response_url = f"{self.root_url}/{job['app']}/requests/{job['id']}"
        if n <= self.queue_polls and not job["canceled"]:
            body = {"status": "IN_QUEUE", "queue_position": self.queue_polls - n, "response_url": response_url}
        elif n <= self.queue_polls + self.progress_polls and not job["canceled"]:
            step = n - self.queue_polls
            percent = round(100 * step / (self.progress_polls + 1))
            logs = [{"message": f"{percent}%|#####     | {step}/{self.progress_polls + 1} [00:01<00:01]"}]
            body = {"status": "IN_PROGRESS", "response_url": response_url, "logs": logs if with_logs else None}
        else:
            job["completed"] = True
            body = {"status": "COMPLETED", "response_url": response_url, "logs": [], "metrics": {"inference_time": 0.4}}
        return json_reply(200, body)

    def _result(self, job: dict[str, Any]) -> Reply:
        if not job["completed"]:
            return json_reply(400, {"detail": "Request is still in progress"})
        if job["canceled"]:
            return json_reply(400, {"detail": "Request was cancelled"})
        if self.generation_error:
            headers = {"X_Fal_Retryable": self.generation_retryable} if self.generation_retryable else {}
            detail = [
                {
                    "loc": ["body", "prompt"],
                    "msg": "The content could not be processed because it contained material "
                    "flagged by a content checker.",
                    "type": "content_policy_violation",
                    "url": "https://docs.fal.ai/errors/#content_policy_violation",
                }
            ]
            return json_reply(self.generation_error, {"detail": detail}, **headers)
        return json_reply(200, self._output(job))

    def _cancel(self, job: dict[str, Any]) -> Reply:
        self.cancels.append(job["id"])
        if job["completed"]:
            return json_reply(400, {"status": "ALREADY_COMPLETED"})
        job["canceled"] = True
        return json_reply(202, {"status": "CANCELLATION_REQUESTED"})

    def _file(self, job: dict[str, Any], index: int, data: bytes, content_type: str, ext: str) -> dict[str, Any]:
        name = f"{job['id']}-{index}.{ext}"
        url = self.serve_file(name, data, content_type)
        return {"url": url, "content_type": content_type, "file_name": name, "file_size": len(data)}

    def _output(self, job: dict[str, Any]) -> dict[str, Any]:
        model = job["model"]
        if "stable-audio" in model:
            return {"audio_file": self._file(job, 0, wav_bytes(), "audio/wav", "wav")}
        if "f5-tts" in model:
            return {"audio_url": self._file(job, 0, mp3_bytes(), "audio/mpeg", "mp3")}
        if "video" in model or "hailuo" in model:
            return {"video": self._file(job, 0, mp4_bytes(), "video/mp4", "mp4")}
        count = int(job["input"].get("num_images", 1))
        images = [
            {**self._file(job, i, png_bytes(), "image/png", "png"), "width": 64, "height": 48} for i in range(count)
        ]
        return {"images": images, "seed": job["input"].get("seed", 42), "has_nsfw_concepts": [False] * count}


# --- Replicate ------------------------------------------------------------------------------


class FakeReplicate(FakeServer):
    """Replicate's predictions API under /v1."""

    prefix = "/v1"

    def __init__(
        self, key: str = "r8_test-token-0123456789", *, starting_polls: int = 1, processing_polls: int = 1
    ) -> None:
        super().__init__(key)
        self.starting_polls = starting_polls
        self.processing_polls = processing_polls
        #: When set, predictions end ``failed`` with this error.
        self.generation_error: str | None = None
        #: Created predictions carry ``urls`` on a foreign host.
        self.foreign_urls = False
        self.predictions: dict[str, dict[str, Any]] = {}
        self.cancels: list[str] = []

    def unauthorized(self, presented: str) -> Reply:
        detail = f"Invalid token {presented}" if presented else "You did not pass a valid authentication token"
        return json_reply(401, {"title": "Unauthenticated", "detail": detail, "status": 401})

    def route(self, record: Recorded) -> Reply:
        segments = [s for s in record.path.split("/") if s]
        if segments[:1] != ["v1"]:
            return json_reply(404, {"title": "Not found", "detail": "Not found", "status": 404})
        rest = segments[1:]
        if record.method == "POST" and len(rest) == 4 and rest[0] == "models" and rest[3] == "predictions":
            return self._create(f"{rest[1]}/{rest[2]}", None, record)
        if record.method == "POST" and rest == ["predictions"]:
            version = (record.json() or {}).get("version")
            if not version:
                return json_reply(422, {"title": "Invalid version", "detail": "version is required", "status": 422})
            return self._create(version.partition(":")[0], version, record)
        if len(rest) >= 2 and rest[0] == "predictions" and rest[1] in self.predictions:
            prediction = self.predictions[rest[1]]
            if record.method == "GET" and len(rest) == 2:
                return self._get(prediction)
            if record.method == "POST" and rest[2:] == ["cancel"]:
                return self._cancel(prediction)
        return json_reply(404, {"title": "Not found", "detail": "Prediction not found", "status": 404})

    def _create(self, model: str, version: str | None, record: Recorded) -> Reply:
        self.delay_submit()
        if self.submit_error == 422:
            problem = "- input.num_outputs: Must be less than or equal to 4"
            body = {
                "title": "Input validation failed",
                "detail": problem,
                "status": 422,
                "invalid_fields": [{"type": "less_than_equal", "field": "input.num_outputs", "description": problem}],
            }
            return json_reply(422, body)
        if self.submit_error == 429:
            body = {"title": "Request was throttled.", "detail": "Your rate limit resets in ~3s.", "status": 429}
            return json_reply(429, body, Retry_After="3")
        if self.submit_error:
            return json_reply(
                self.submit_error,
                {"title": "Internal Server Error", "detail": "Please retry", "status": self.submit_error},
            )
        body = record.json()
        if not isinstance(body.get("input"), dict):
            return json_reply(422, {"title": "Input validation failed", "detail": "input is required", "status": 422})
        prediction_id = _new_id()[:26]
        host = "http://203.0.113.7/v1" if self.foreign_urls else self.base_url
        prediction = {
            "id": prediction_id,
            "model": model,
            "version": version or "hidden",
            "input": body["input"],
            "logs": "",
            "output": None,
            "error": None,
            "status": "starting",
            "data_removed": False,
            "created_at": "2026-11-22T10:00:00.000Z",
            "urls": {
                "get": f"{host}/predictions/{prediction_id}",
                "cancel": f"{host}/predictions/{prediction_id}/cancel",
                "stream": f"{host}/stream/{prediction_id}",
                "web": f"https://replicate.com/p/{prediction_id}",
            },
        }
        self.predictions[prediction_id] = {
            "public": prediction,
            "polls": 0,
            "webhook": body.get("webhook"),
            "webhook_events_filter": body.get("webhook_events_filter"),
        }
        return json_reply(201, prediction)

    def _get(self, state: dict[str, Any]) -> Reply:
        prediction = state["public"]
        if prediction["status"] in ("succeeded", "failed", "canceled"):
            return json_reply(200, prediction)
        state["polls"] += 1
        n = state["polls"]
        if n <= self.starting_polls:
            prediction["status"] = "starting"
        elif n <= self.starting_polls + self.processing_polls:
            step = n - self.starting_polls
            total = self.processing_polls + 1
            prediction["status"] = "processing"
            prediction["logs"] = (
                f"Using seed: 7\n  0%|          | 0/{total} [00:00<?, ?it/s]\n"
                f" {round(100 * step / total)}%|#####     | {step}/{total} [00:01<00:01,  1.9it/s]"
            )
        elif self.generation_error:
            prediction.update(status="failed", error=self.generation_error)
        else:
            prediction.update(status="succeeded", output=self._output(prediction), metrics={"predict_time": 0.4})
        return json_reply(200, prediction)

    def _cancel(self, state: dict[str, Any]) -> Reply:
        prediction = state["public"]
        self.cancels.append(prediction["id"])
        if prediction["status"] not in ("succeeded", "failed", "canceled"):
            prediction["status"] = "canceled"
        return json_reply(200, prediction)

    def _output(self, prediction: dict[str, Any]) -> Any:
        model, pid, inputs = prediction["model"], prediction["id"], prediction["input"]
        if "musicgen" in model:
            if inputs.get("output_format") == "mp3":
                return self.serve_file(f"{pid}.mp3", mp3_bytes(), "audio/mpeg")
            return self.serve_file(f"{pid}.wav", wav_bytes(), "audio/wav")
        if "video" in model or "hailuo" in model:
            return self.serve_file(f"{pid}.mp4", mp4_bytes(), "video/mp4")
        count = int(inputs.get("num_outputs", 1))
        return [self.serve_file(f"{pid}-{i}.png", png_bytes(), "image/png") for i in range(count)]


# --- OpenAI ---------------------------------------------------------------------------------

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
        if record.path in ("/v1/images/generations", "/v1/images/edits", "/v1/audio/speech"):
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
        fmt = body.get("response_format", "mp3")
        if fmt == "wav":
            return Reply(200, wav_bytes(), "audio/wav")
        if fmt == "mp3":
            return Reply(200, mp3_bytes(), "audio/mpeg")
        return self._error(
            400, f"This fake only speaks mp3 and wav, not {fmt!r}.", "invalid_request_error", param="response_format"
        )


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
