"""``POST /v1/audio/transcriptions`` through the official ``openai`` SDK: speech Atelier
synthesised itself (an ``audio`` job, espeak-ng) comes back as its words, in every format."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.support import Caller, create_account_with_key, ledger_sum, wait_for_job

pytestmark = pytest.mark.slow
SPOKEN = "One two three four five."


@pytest.fixture(scope="module", autouse=True)
def _patient(stack_env) -> Iterator[None]:
    """Synchronous calls outwait jobs other tests left queued on the suite's one worker."""
    from shared.settings import reset_settings

    os.environ["ATELIER_SYNC_WAIT_SECONDS"] = "600"
    reset_settings()
    yield
    os.environ.pop("ATELIER_SYNC_WAIT_SECONDS", None)
    reset_settings()


@pytest.fixture(scope="module")
def caller(stack_env) -> Caller:
    return create_account_with_key(credits=100)


@pytest.fixture(scope="module")
def speech(client, celery_worker, caller) -> bytes:
    """A WAV of ``SPOKEN``, made by Atelier's own voice mode."""
    created = client.post("/v1/jobs", headers=caller.headers, json={
        "mode": "audio", "voice_text": SPOKEN, "voice_id": "casual_male", "output_format": "wav"})
    assert created.status_code == 202, created.text
    job = wait_for_job(client, caller, created.json()["id"])
    assert job["status"] == "completed", job
    content = client.get(f"/v1/assets/{job['result']['assets'][0]['id']}/content", headers=caller.headers,
                         follow_redirects=True)
    assert content.status_code == 200
    return content.content


@pytest.fixture
def sdk(live_server, caller) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{live_server}/v1", api_key=caller.key, max_retries=0, timeout=600) as c:
        yield c


def _create(sdk: openai.OpenAI, speech: bytes, **kwargs):
    return sdk.audio.transcriptions.create(model="local/transcribe-1", file=("speech.wav", speech, "audio/wav"),
                                           **kwargs)


def test_json_is_the_words_and_the_price_of_one_started_minute(sdk, speech, caller, celery_worker):
    before, _ = ledger_sum(caller.account_id)
    result = _create(sdk, speech)
    assert "one two three" in result.text
    assert result.usage.credits_used == 1  # type: ignore[union-attr]
    assert ledger_sum(caller.account_id) == (before - 1, before - 1)


def test_verbose_json_has_segments_and_words_with_timestamps(sdk, speech, celery_worker):
    result = _create(sdk, speech, response_format="verbose_json", timestamp_granularities=["word", "segment"])
    assert result.language == "english" and result.duration > 1
    assert "one two three" in result.text and result.segments and result.words
    assert [w.word for w in result.words][:3] == ["one", "two", "three"]
    assert all(0 <= w.start < w.end <= result.duration + 0.05 for w in result.words)


@pytest.mark.parametrize(("response_format", "start"), [("text", "one two three"), ("srt", "1\n00:00:"),
                                                        ("vtt", "WEBVTT\n\n00:00:")])
def test_text_srt_and_vtt_are_plain_text(sdk, speech, celery_worker, response_format, start):
    result = _create(sdk, speech, response_format=response_format)
    assert isinstance(result, str) and result.startswith(start) and "one two three" in result


def test_a_json_body_with_a_data_uri_works_too(live_server, caller, speech, celery_worker):
    body = {"model": "transcribe-1", "file": "data:audio/wav;base64," + base64.b64encode(speech).decode()}
    response = httpx.post(f"{live_server}/v1/audio/transcriptions", json=body, headers=caller.headers, timeout=600)
    assert response.status_code == 200 and "one two three" in response.json()["text"]


@pytest.mark.parametrize(("extra", "param"), [
    ({"prompt": "numbers"}, "prompt"), ({"temperature": 0.2}, "temperature"), ({"language": "fr"}, "language"),
    ({"response_format": "text", "timestamp_granularities": ["word"]}, "timestamp_granularities")])
def test_what_the_model_cannot_honour_is_a_400_naming_it(sdk, speech, extra, param):
    with pytest.raises(openai.BadRequestError) as caught:
        _create(sdk, speech, **extra)
    assert caught.value.param == param


def test_an_unknown_model_and_an_account_that_cannot_pay(live_server, sdk, speech):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.audio.transcriptions.create(model="whisper-1", file=("speech.wav", speech, "audio/wav"))
    assert caught.value.code == "MODEL_NOT_FOUND"
    broke = create_account_with_key(plan="free", credits=0)
    with openai.OpenAI(base_url=f"{live_server}/v1", api_key=broke.key, max_retries=0) as client:
        with pytest.raises(openai.APIStatusError) as no_credits:
            _create(client, speech)
    assert no_credits.value.status_code == 402


def test_a_call_still_running_at_the_wait_limit_answers_202_with_the_job(live_server, caller, speech, client,
                                                                        celery_worker, monkeypatch):
    from shared.settings import reset_settings

    monkeypatch.setitem(os.environ, "ATELIER_SYNC_WAIT_SECONDS", "0")
    reset_settings()
    try:
        response = httpx.post(f"{live_server}/v1/audio/transcriptions", headers=caller.headers,
                              files={"file": ("speech.wav", speech, "audio/wav")}, data={"model": "local/transcribe-1"})
    finally:
        monkeypatch.setitem(os.environ, "ATELIER_SYNC_WAIT_SECONDS", "600")
        reset_settings()
    assert response.status_code == 202
    job = wait_for_job(client, caller, response.json()["id"], timeout=600)
    assert job["mode"] == "transcription" and job["status"] == "completed"
    assert job["result"]["assets"][0]["content_type"] == "application/json"
