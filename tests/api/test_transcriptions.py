"""``POST /v1/audio/transcriptions`` through the official ``openai`` SDK: speech Atelier
synthesised itself (an ``audio`` job, espeak-ng) comes back as its words, in every format."""

from __future__ import annotations

import base64

import httpx
import openai
import pytest

from tests.support import Caller, create_account_with_key, ledger_sum, set_sync_wait, wait_for_job

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("patient_sync_wait")]
SPOKEN = "One two three four five."


@pytest.fixture(scope="module")
def caller(stack_env) -> Caller:
    return create_account_with_key(plan="professional", credits=100)  # 120 a minute: it makes over 30


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


def _accepted(raw) -> dict:
    """The short job shape of a 202, with its Location and X-Atelier-Job-Id."""
    assert raw.status_code == 202
    accepted = raw.http_response.json()
    assert set(accepted) == {"id", "object", "status", "created", "model", "estimated_credits"}
    assert (accepted["object"], accepted["model"], accepted["estimated_credits"]) == ("job", "local/transcribe-1", 1)
    assert accepted["status"] in ("queued", "running")
    assert raw.headers["Location"] == f"/v1/jobs/{accepted['id']}"
    assert raw.headers["X-Atelier-Job-Id"] == accepted["id"]
    return accepted


def test_async_answers_202_with_the_job_at_once_then_the_job_completes(sdk, speech, client, caller, celery_worker):
    raw = sdk.audio.transcriptions.with_raw_response.create(
        model="local/transcribe-1", file=("speech.wav", speech, "audio/wav"), extra_query={"async": "true"},
        extra_body={"webhook_url": "http://127.0.0.1:9/hook", "metadata": {"order": "7"}})
    job = wait_for_job(client, caller, _accepted(raw)["id"], timeout=600)
    assert job["mode"] == "transcription" and job["status"] == "completed"
    assert job["result"]["assets"][0]["content_type"] == "application/json"
    assert job["webhook_url"] == "http://127.0.0.1:9/hook" and job["metadata"] == {"order": "7"}


def test_a_call_still_running_at_a_short_sync_wait_answers_202(sdk, speech, client, caller, celery_worker):
    set_sync_wait("0.2")
    try:
        raw = sdk.audio.transcriptions.with_raw_response.create(model="local/transcribe-1",
                                                                file=("speech.wav", speech, "audio/wav"))
    finally:
        set_sync_wait("600")
    job = wait_for_job(client, caller, _accepted(raw)["id"], timeout=600)
    assert job["status"] == "completed"


def test_an_idempotency_key_replays_the_same_job_and_charges_once(sdk, speech, caller, celery_worker):
    before, _ = ledger_sum(caller.account_id)
    headers = {"Idempotency-Key": "transcribe-once-1"}
    first = sdk.audio.transcriptions.with_raw_response.create(
        model="local/transcribe-1", file=("speech.wav", speech, "audio/wav"), response_format="verbose_json",
        timestamp_granularities=["word"], extra_headers=headers)
    again = sdk.audio.transcriptions.with_raw_response.create(
        model="local/transcribe-1", file=("again.wav", speech, "audio/wav"), response_format="verbose_json",
        timestamp_granularities=["word"], extra_headers=headers)
    assert first.headers["X-Atelier-Job-Id"] == again.headers["X-Atelier-Job-Id"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.http_response.json() == first.http_response.json()
    assert [w["word"] for w in again.http_response.json()["words"]][:3] == ["one", "two", "three"]
    assert ledger_sum(caller.account_id) == (before - 1, before - 1)


@pytest.mark.parametrize("change", [{"response_format": "json", "timestamp_granularities": openai.NOT_GIVEN},
                                    {"timestamp_granularities": ["segment"]}, {"file": b"other bytes"}])
def test_another_request_with_the_same_key_is_a_422(sdk, speech, caller, celery_worker, change):
    headers = {"Idempotency-Key": "transcribe-changed-" + "-".join(change)}
    fields = {"response_format": "verbose_json", "timestamp_granularities": ["word"]}
    sdk.audio.transcriptions.create(model="local/transcribe-1", file=("speech.wav", speech, "audio/wav"),
                                    extra_headers=headers, **fields)  # type: ignore[arg-type]
    before = ledger_sum(caller.account_id)
    other = dict(change)
    audio = speech + other.pop("file", b"")
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        sdk.audio.transcriptions.create(model="local/transcribe-1", file=("speech.wav", audio, "audio/wav"),
                                        extra_headers=headers, **{**fields, **other})  # type: ignore[arg-type]
    assert caught.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert ledger_sum(caller.account_id) == before


def test_a_json_body_with_bare_base64_and_the_job_fields(live_server, client, caller, speech, celery_worker):
    body = {"model": "transcribe-1", "file": base64.b64encode(speech).decode(), "response_format": "text",
            "metadata": {"order": "8"}}
    response = httpx.post(f"{live_server}/v1/audio/transcriptions", json=body, headers=caller.headers, timeout=600)
    assert response.status_code == 200 and response.text.startswith("one two three")
    job = client.get(f"/v1/jobs/{response.headers['X-Atelier-Job-Id']}", headers=caller.headers).json()
    assert job["metadata"] == {"order": "8"} and job["credits_charged"] == 1


@pytest.mark.parametrize(("body", "field"), [({"model": "transcribe-1"}, "file"),
                                             ({"file": "not base64!"}, "file"),
                                             ({"file": "aGVsbG8=", "metadata": "x"}, "metadata")])
def test_a_json_body_without_usable_audio_is_a_400_naming_the_field(live_server, caller, body, field):
    response = httpx.post(f"{live_server}/v1/audio/transcriptions", json=body, headers=caller.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == field
