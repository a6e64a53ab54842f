"""``POST /v1/audio/speech`` through the official ``openai`` SDK against the live stack (uvicorn,
a real Celery worker): every format as bytes, speed, OpenAI's voice names, the JSON answer,
long input, and the errors the SDK raises."""

from __future__ import annotations

import io
import os
from pathlib import Path
from urllib.parse import urlsplit

import av
import httpx
import openai
import pytest

from shared.media.voices import estimate_speech_seconds
from tests.support import Caller, create_account_with_key, ledger_sum, wait_for_job

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("patient_sync_wait")]
TEXT = "Atelier reads this sentence aloud, clearly and at an even pace."
#: The containers and codecs each response_format arrives in.
FORMATS = {"mp3": ("audio/mpeg", "mp3", "mp3"), "wav": ("audio/wav", "wav", "pcm_s16le"),
           "opus": ("audio/opus", "ogg", "opus"), "aac": ("audio/aac", "aac", "aac"),
           "flac": ("audio/flac", "flac", "flac")}


@pytest.fixture(scope="module")
def caller(stack_env) -> Caller:
    return create_account_with_key(plan="professional", credits=1000)


def _duration(data: bytes) -> tuple[float, str, str]:
    """Seconds of audio PyAV decodes from ``data``, and the container and codec it found."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate, container.format.name, stream.codec_context.name


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_format_streams_to_a_file_that_decodes(sdk, celery_worker, tmp_path: Path, fmt: str):
    content_type, container, codec = FORMATS[fmt]
    with sdk.audio.speech.with_streaming_response.create(model="local/voice-1", voice="alloy", input=TEXT,
                                                         response_format=fmt) as response:
        assert response.headers["content-type"] == content_type
        assert response.headers["x-atelier-job-id"].startswith("job_")
        response.stream_to_file(tmp_path / f"speech.{fmt}")
    seconds, found_container, found_codec = _duration((tmp_path / f"speech.{fmt}").read_bytes())
    assert found_container == container and found_codec.startswith(codec)  # mp3 decodes as mp3float
    assert 0.5 * estimate_speech_seconds(TEXT, "news_anchor") < seconds <= estimate_speech_seconds(TEXT, "news_anchor")


def test_pcm_is_raw_24_khz_samples(sdk, celery_worker, caller, client):
    response = sdk.audio.speech.with_raw_response.create(model="voice-1", voice="nova", input=TEXT,
                                                         response_format="pcm")
    assert response.headers["content-type"] == "audio/pcm"
    data = response.content
    job = client.get(f"/v1/jobs/{response.headers['x-atelier-job-id']}", headers=caller.headers).json()
    assert len(data) % 2 == 0 and len(data) / 48_000 == pytest.approx(job["result"]["assets"][0]["duration_seconds"],
                                                                      abs=0.001)
    assert 0.5 * estimate_speech_seconds(TEXT, "casual_female") < len(data) / 48_000


def _json(live_server: str, caller: Caller, **body) -> httpx.Response:
    return httpx.post(f"{live_server}/v1/audio/speech", json={"model": "local/voice-1", "input": TEXT,
                                                              "voice": "echo", **body},
                      headers={**caller.headers, "Accept": "application/json"}, timeout=600)


def test_the_json_answer_has_a_signed_url_and_the_usage(live_server, caller, celery_worker):
    before, _ = ledger_sum(caller.account_id)
    response = _json(live_server, caller, response_format="wav")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    answer = response.json()
    assert set(answer) == {"created", "audio_url", "duration_seconds", "character_count", "model", "usage"}
    assert answer["character_count"] == len(TEXT) and answer["model"] == "local/voice-1"
    assert answer["usage"]["credits_used"] == 1 and ledger_sum(caller.account_id) == (before - 1, before - 1)
    signed = urlsplit(answer["audio_url"])  # on ATELIER_API_URL: asked of the live server here
    audio = httpx.get(f"{live_server}{signed.path}?{signed.query}", follow_redirects=True)  # no key needed
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    assert _duration(audio.content)[0] == pytest.approx(answer["duration_seconds"], abs=0.05)


def test_speed_changes_the_duration(live_server, caller, celery_worker):
    normal = _json(live_server, caller).json()["duration_seconds"]
    fast = _json(live_server, caller, speed=2).json()["duration_seconds"]
    slow = _json(live_server, caller, speed=0.5).json()["duration_seconds"]
    assert 0.4 < fast / normal < 0.6 and 1.7 < slow / normal < 2.3


def test_openai_voices_map_to_atelier_voices(sdk, client, caller, celery_worker):
    expected = {"alloy": "news_anchor", "echo": "casual_male", "fable": "narrator", "onyx": "narrator",
                "nova": "casual_female", "shimmer": "casual_female", "news_anchor": "news_anchor"}
    for voice, voice_id in expected.items():
        response = sdk.audio.speech.with_raw_response.create(model="local/voice-1", voice=voice, input="Hi.")
        job = client.get(f"/v1/jobs/{response.headers['x-atelier-job-id']}", headers=caller.headers).json()
        assert job["mode"] == "audio" and job["inputs"]["voice_id"] == voice_id and job["status"] == "completed"


def test_input_over_500_characters_is_spoken_in_full(live_server, caller, client, celery_worker):
    long_text = " ".join(f"Sentence number {i} is here." for i in range(60))  # ~1,700 characters
    response = _json(live_server, caller, input=long_text, speed=4)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["character_count"] == len(long_text) > 500
    job = client.get(f"/v1/jobs/{response.headers['x-atelier-job-id']}", headers=caller.headers).json()
    assert job["inputs"]["voice_text"] == long_text
    assert answer["duration_seconds"] > 20  # all of it, even at 4×
    assert answer["usage"]["credits_used"] == -(-answer["duration_seconds"] // 10)


@pytest.mark.parametrize(("extra", "param"), [
    ({"speed": 5}, "speed"), ({"voice": "robot"}, "voice"), ({"instructions": "whisper"}, "instructions"),
    ({"response_format": "ogg"}, "response_format"), ({"input": "x" * 4097}, "input"), ({"input": "  "}, "input"),
    ({"extra_body": {"webhook_events": ["job.exploded"]}}, "webhook_events")])
def test_what_cannot_be_honoured_is_a_bad_request_naming_it(sdk, extra, param):
    body = {"model": "local/voice-1", "voice": "alloy", "input": "Hello.", **extra}
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.audio.speech.create(**body)
    assert caught.value.param == param


def test_an_unknown_model_and_an_account_that_cannot_pay(live_server, sdk):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.audio.speech.create(model="tts-1", voice="alloy", input="Hello.")
    assert caught.value.code == "MODEL_NOT_FOUND" and caught.value.param == "model"
    broke = create_account_with_key(plan="free", credits=0)
    with openai.OpenAI(base_url=f"{live_server}/v1", api_key=broke.key, max_retries=0) as client:
        with pytest.raises(openai.APIStatusError) as no_credits:
            client.audio.speech.create(model="local/voice-1", voice="alloy", input="Hello.")
    assert no_credits.value.status_code == 402
    assert ledger_sum(broke.account_id) == (0, 0)


def test_idempotency_key_and_webhook_url_are_those_of_jobs(live_server, caller, client, celery_worker):
    headers = {**caller.headers, "Idempotency-Key": "speech-once-1", "Accept": "application/json"}
    body = {"model": "local/voice-1", "input": "Only once.", "voice": "onyx", "webhook_url": "http://127.0.0.1:9/hook"}
    before, _ = ledger_sum(caller.account_id)
    first = httpx.post(f"{live_server}/v1/audio/speech", json=body, headers=headers, timeout=600)
    again = httpx.post(f"{live_server}/v1/audio/speech", json=body, headers=headers, timeout=600)
    assert first.status_code == again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert first.headers["x-atelier-job-id"] == again.headers["x-atelier-job-id"]
    assert ledger_sum(caller.account_id) == (before - 1, before - 1)
    job = client.get(f"/v1/jobs/{first.headers['x-atelier-job-id']}", headers=caller.headers).json()
    assert job["webhook_url"] == body["webhook_url"]
    other = httpx.post(f"{live_server}/v1/audio/speech", json={**body, "voice": "fable"}, headers=headers)
    assert other.status_code == 422  # same key, another request


def test_a_call_still_running_at_the_wait_limit_answers_202_with_the_job(live_server, caller, client,
                                                                         celery_worker, monkeypatch):
    from shared.settings import reset_settings

    monkeypatch.setitem(os.environ, "ATELIER_SYNC_WAIT_SECONDS", "0")
    reset_settings()
    try:
        response = httpx.post(f"{live_server}/v1/audio/speech", headers=caller.headers,
                              json={"model": "local/voice-1", "input": TEXT, "voice": "shimmer"})
    finally:
        monkeypatch.setitem(os.environ, "ATELIER_SYNC_WAIT_SECONDS", "600")
        reset_settings()
    assert response.status_code == 202
    stub = response.json()
    assert stub["object"] == "job" and stub["status"] in ("queued", "running") and stub["estimated_credits"] >= 1
    job = wait_for_job(client, caller, stub["id"], timeout=600)
    assert job["mode"] == "audio" and job["status"] == "completed"
