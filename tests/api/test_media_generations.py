"""AI Magicx's ``POST /v1/videos/generations`` and ``POST /v1/music/generations`` against the
live stack and a real Celery worker: ``202`` with the job by default, the finished media by
signed URL with ``?async=false``; errors through the official ``openai`` SDK."""

from __future__ import annotations

import base64
import io
from typing import Any
from urllib.parse import urlsplit

import av
import httpx
import openai
import pytest

from tests.media_samples import mp4_bytes, png_bytes, wav_bytes
from tests.support import Caller, create_account_with_key, ledger_sum, wait_for_job

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("patient_sync_wait")]


@pytest.fixture(scope="module")
def caller(stack_env) -> Caller:
    return create_account_with_key(plan="professional", credits=1000)


def _post(live_server: str, caller: Caller, path: str, body: dict[str, Any], *, wait: bool = False,
          headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{live_server}/v1/{path}", json=body, params={"async": "false"} if wait else None,
                      headers={**caller.headers, **(headers or {})}, timeout=600)


def _without_key(live_server: str, url: str) -> httpx.Response:
    """A signed URL (made for ``ATELIER_API_URL``) fetched from the live server, with no key."""
    parts = urlsplit(url)
    return httpx.get(f"{live_server}{parts.path}?{parts.query}", timeout=60)


def _data_uri(content_type: str, data: bytes) -> str:
    return f"data:{content_type};base64," + base64.b64encode(data).decode()


def test_a_video_is_a_202_job_by_default(live_server, caller, client, celery_worker):
    response = _post(live_server, caller, "videos/generations", {"prompt": "a comet", "duration_seconds": 1})
    assert response.status_code == 202
    accepted = response.json()
    assert set(accepted) == {"id", "object", "status", "created", "model", "estimated_credits"}
    assert (accepted["object"], accepted["model"], accepted["estimated_credits"]) == ("job", "local/motion-1", 22)
    assert response.headers["Location"] == f"/v1/jobs/{accepted['id']}"
    job = wait_for_job(client, caller, accepted["id"], timeout=600)
    assert (job["mode"], job["status"], job["credits_charged"]) == ("text_to_video", "completed", 22)


def test_async_false_answers_a_signed_url_to_the_mp4(live_server, caller, celery_worker):
    before, _ = ledger_sum(caller.account_id)
    response = _post(live_server, caller, "videos/generations", wait=True, body={
        "prompt": "a comet over the sea", "duration_seconds": 1, "resolution": "480p", "aspect_ratio": "1:1",
        "fps": 12, "seed": 7, "negative_prompt": "birds", "loop": True})
    assert response.status_code == 200, response.text
    answer = response.json()
    data = answer["data"]
    assert (data["width"], data["height"], data["content_type"]) == (480, 480, "video/mp4")
    assert data["duration_seconds"] == pytest.approx(1, abs=0.1)
    assert answer["model"] == "local/motion-1" and answer["usage"]["credits_used"] == 22
    assert ledger_sum(caller.account_id) == (before - 22, before - 22)
    content = _without_key(live_server, data["url"])
    assert content.status_code == 200
    with av.open(io.BytesIO(content.content)) as container:
        frames = list(container.decode(container.streams.video[0]))
    assert (frames[0].width, frames[0].height) == (480, 480) and 10 <= len(frames) <= 14


def test_a_source_image_makes_an_image_to_video_clip(live_server, caller, client, celery_worker):
    response = _post(live_server, caller, "videos/generations", wait=True, body={
        "source_image": _data_uri("image/png", png_bytes(640, 480)), "duration_seconds": 1, "resolution": "480p"})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["height"] == 480 and data["width"] == 640
    job = client.get(f"/v1/jobs/{response.headers['X-Atelier-Job-Id']}", headers=caller.headers).json()
    assert job["mode"] == "image_to_video"


def test_a_source_video_is_restyled_as_video_to_video(live_server, caller, client, celery_worker):
    response = _post(live_server, caller, "videos/generations", wait=True, body={
        "prompt": "in warm sepia", "source_video": _data_uri("video/mp4", mp4_bytes(1.0, 8, (160, 120)))})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["width"], data["height"]) == (160, 120) and data["duration_seconds"] == pytest.approx(1, abs=0.15)
    job = client.get(f"/v1/jobs/{response.headers['X-Atelier-Job-Id']}", headers=caller.headers).json()
    assert job["mode"] == "video_to_video" and job["credits_charged"] == 22


@pytest.mark.parametrize(("body", "param"), [
    ({"prompt": "x", "duration_seconds": 11}, "duration_seconds"),
    ({"prompt": "x", "fps": 60}, "fps"),
    ({"prompt": "x", "resolution": "4k"}, "resolution"),
    ({"prompt": "x", "mode": "text_to_video", "source_image": "https://example.com/a.png"}, "source_image"),
    ({"mode": "image_to_video", "source_image": "ftp://example.com/a.png"}, "source_image"),
    ({"mode": "image_to_video"}, "source_image"),
    ({"source_image": "data:image/png;base64,AAAA", "negative_prompt": "x"}, "negative_prompt"),
    ({"prompt": "x", "style": "anime"}, "style"),
    ({"prompt": "x", "model": "sora-2"}, "model")])
def test_video_fields_that_cannot_be_honoured_are_a_400_naming_them(sdk, caller, body, param):
    before = ledger_sum(caller.account_id)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.post("/videos/generations", body=body, cast_to=object)
    assert caught.value.param == param  # type: ignore[attr-defined]
    assert ledger_sum(caller.account_id) == before


def test_music_both_ways(live_server, caller, client, celery_worker):
    accepted = _post(live_server, caller, "music/generations", {"prompt": "calm piano", "duration_seconds": 2})
    assert accepted.status_code == 202 and accepted.json()["estimated_credits"] == 1
    job = wait_for_job(client, caller, accepted.json()["id"], timeout=600)
    assert (job["mode"], job["status"]) == ("music", "completed")
    response = _post(live_server, caller, "music/generations", wait=True, body={
        "prompt": "calm piano", "mode": "text_to_music", "duration_seconds": 2, "output_format": "wav",
        "negative_prompt": "drums"})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["content_type"] == "audio/wav" and data["width"] is None
    assert data["duration_seconds"] == pytest.approx(2, abs=0.1)
    audio = _without_key(live_server, data["url"])
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"


def test_a_source_audio_is_reworked_as_audio_to_audio(live_server, caller, client, celery_worker):
    response = _post(live_server, caller, "music/generations", wait=True, body={
        "prompt": "soft strings", "source_audio": _data_uri("audio/wav", wav_bytes(2.0)), "strength": 0.4,
        "output_format": "wav"})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["content_type"] == "audio/wav" and data["duration_seconds"] == pytest.approx(2, abs=0.1)
    job = client.get(f"/v1/jobs/{response.headers['X-Atelier-Job-Id']}", headers=caller.headers).json()
    assert (job["mode"], job["credits_charged"]) == ("audio_to_audio", 1)


@pytest.mark.parametrize(("body", "param"), [
    ({"prompt": "x", "duration_seconds": 48}, "duration_seconds"),
    ({"prompt": "x", "output_format": "ogg"}, "output_format"),
    ({"prompt": "x", "mode": "text_to_speech"}, "mode"),
    ({"prompt": "x", "strength": 0.5}, "strength"),
    ({"prompt": "x", "mode": "audio_to_audio"}, "source_audio"),
    ({"prompt": "x", "source_audio": "data:audio/wav;base64,AAAA"}, "source_audio")])
def test_music_fields_that_cannot_be_honoured_are_a_400_naming_them(sdk, body, param):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.post("/music/generations", body=body, cast_to=object)
    assert caught.value.param == param  # type: ignore[attr-defined]


def test_auth_and_credits_errors_are_the_sdks(live_server):
    with openai.OpenAI(base_url=f"{live_server}/v1", api_key="at_live_nobody.secret", max_retries=0) as stranger:
        with pytest.raises(openai.AuthenticationError):
            stranger.post("/videos/generations", body={"prompt": "x"}, cast_to=object)
    broke = create_account_with_key(plan="free", credits=3)
    with openai.OpenAI(base_url=f"{live_server}/v1", api_key=broke.key, max_retries=0) as poor:
        with pytest.raises(openai.APIStatusError) as caught:
            poor.post("/videos/generations", body={"prompt": "x", "duration_seconds": 1}, cast_to=object)
    assert caught.value.status_code == 402
    assert ledger_sum(broke.account_id) == (3, 3)


def test_an_idempotency_key_replays_the_same_job(live_server, caller, sdk, client):
    headers = {"Idempotency-Key": "music-once"}
    body = {"prompt": "a drum loop", "duration_seconds": 1}
    first = _post(live_server, caller, "music/generations", body, headers=headers)
    again = _post(live_server, caller, "music/generations", body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    jobs = client.get("/v1/jobs", headers=caller.headers, params={"mode": "music", "limit": 100}).json()["data"]
    assert [j["id"] for j in jobs if j["prompt"] == "a drum loop"] == [first.json()["id"]]
    with pytest.raises(openai.UnprocessableEntityError):
        sdk.post("/music/generations", body={**body, "duration_seconds": 2}, cast_to=object,
                 options={"headers": headers})
    other = _post(live_server, caller, "videos/generations", {"prompt": "x", "duration_seconds": 1},
                  headers=headers)
    assert other.status_code == 422  # the key belongs to the music endpoint
