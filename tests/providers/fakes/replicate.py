"""Replicate's predictions API: create (by model or pinned version), get, cancel."""

from __future__ import annotations

from typing import Any

from tests.providers.fakes.server import (
    FakeServer,
    Recorded,
    Reply,
    _new_id,
    json_reply,
    mp3_bytes,
    mp4_bytes,
    png_bytes,
    wav_bytes,
)


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
