"""fal's queue API: submit, status (with logs), result, cancel."""

from __future__ import annotations

import uuid
from typing import Any

from tests.providers.fakes.server import (
    FakeServer,
    Recorded,
    Reply,
    json_reply,
    mp3_bytes,
    mp4_bytes,
    png_bytes,
    wav_bytes,
)


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
        if "whisper" in model:  # a transcript, no files; the last chunk's end is null (the audio's end)
            return {"text": " Hello world. Again.", "inferred_languages": ["en"], "diarization_segments": [],
                    "chunks": [{"timestamp": [0.0, 0.2], "text": " Hello world."},
                               {"timestamp": [0.2, None], "text": " Again."}]}
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
