"""``POST /v1/audio/transcriptions`` on the upstream whisper models (``openai/whisper-1``,
``fal-ai/whisper``) through the official ``openai`` SDK, against loopback fakes speaking their
protocols, and a JSON ``file`` given by URL."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.media_samples import png_bytes, wav_bytes
from tests.providers.fakes import FakeFal, FakeOpenAI
from tests.support import Caller, create_account_with_key, ledger_sum

pytestmark = pytest.mark.slow


def _reset() -> None:
    from tests.conftest import _reset_caches
    from workers.providers import registry

    _reset_caches()
    registry.reset()


@pytest.fixture(scope="module")
def upstreams(stack_env) -> Iterator[dict]:
    with FakeFal() as fal, FakeOpenAI() as oai:
        env = {"ATELIER_FAL_KEY": fal.key, "ATELIER_FAL_QUEUE_URL": fal.base_url,
               "ATELIER_OPENAI_API_KEY": oai.key, "ATELIER_OPENAI_BASE_URL": oai.base_url,
               "ATELIER_SYNC_WAIT_SECONDS": "600"}  # outwait jobs other tests left on the one worker
        os.environ.update(env)
        _reset()
        try:
            yield {"fal": fal, "openai": oai}
        finally:
            for name in env:
                os.environ.pop(name, None)
            _reset()


@pytest.fixture(scope="module")
def caller(upstreams) -> Caller:
    return create_account_with_key(plan="professional", credits=100)


SPEECH = wav_bytes(seconds=2.0)


def test_whisper_1_is_sent_the_audio_as_openai_documents_and_words_come_back(sdk, upstreams, caller,
                                                                            celery_worker):
    before, _ = ledger_sum(caller.account_id)
    result = sdk.audio.transcriptions.create(model="openai/whisper-1", file=("talk.wav", SPEECH, "audio/wav"),
                                             response_format="verbose_json", language="fr",
                                             timestamp_granularities=["word", "segment"])
    assert result.text == "Hello world." and result.duration == pytest.approx(2.0, abs=0.05)
    assert [w.word for w in result.words] == ["Hello", "world"] and len(result.segments) == 1
    sent = upstreams["openai"].transcriptions[-1]
    assert sent["files"]["file"][1] == SPEECH
    assert sent["fields"]["model"] == "whisper-1" and sent["fields"]["response_format"] == "verbose_json"
    assert sent["fields"]["language"] == "fr" and sent["granularities"] == ["segment", "word"]
    assert result.usage.credits_used == 1  # type: ignore[union-attr]
    assert ledger_sum(caller.account_id) == (before - 1, before - 1)


def test_fal_whisper_chunks_become_segments_in_every_format(sdk, upstreams, celery_worker):
    srt = sdk.audio.transcriptions.create(model="fal-ai/whisper", file=("talk.wav", SPEECH, "audio/wav"),
                                          response_format="srt")
    assert srt.startswith("1\n00:00:00,000 --> 00:00:00,200\nHello world.\n")
    assert "2\n00:00:00,200 --> 00:00:02,000\nAgain." in srt  # the open last chunk ends with the audio
    verbose = sdk.audio.transcriptions.create(model="fal-ai/whisper", file=("talk.wav", SPEECH, "audio/wav"),
                                              response_format="verbose_json", timestamp_granularities=["word"])
    assert verbose.text == "Hello world. Again." and verbose.language == "en" and verbose.words == []
    submitted = list(upstreams["fal"].jobs.values())[-1]
    assert submitted["model"] == "fal-ai/whisper" and submitted["input"]["task"] == "transcribe"
    assert submitted["input"]["audio_url"].startswith("data:audio/wav;base64,")


def test_a_json_file_by_url_is_fetched_through_the_guard(live_server, upstreams, caller, celery_worker):
    url = upstreams["fal"].serve_file("talk.wav", SPEECH, "audio/wav")
    response = httpx.post(f"{live_server}/v1/audio/transcriptions", headers=caller.headers, timeout=600,
                          json={"model": "openai/whisper-1", "file": url, "response_format": "text"})
    assert response.status_code == 200, response.text
    assert response.text == "Hello world.\n"
    assert upstreams["openai"].transcriptions[-1]["files"]["file"][1] == SPEECH
    picture = upstreams["fal"].serve_file("not-audio.png", png_bytes(), "image/png")
    refused = httpx.post(f"{live_server}/v1/audio/transcriptions", headers=caller.headers,
                         json={"model": "openai/whisper-1", "file": picture})
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["errors"][0]["field"] == "file"


def test_the_built_in_model_still_refuses_other_languages(sdk, upstreams):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.audio.transcriptions.create(model="local/transcribe-1", file=("talk.wav", SPEECH, "audio/wav"),
                                        language="fr")
    assert caught.value.param == "language"


def test_a_request_the_upstream_refuses_is_the_cores_400_and_charges_nothing(sdk, upstreams, caller, celery_worker):
    before = ledger_sum(caller.account_id)
    upstreams["openai"].submit_error = 400
    try:
        with pytest.raises(openai.BadRequestError) as caught:
            sdk.audio.transcriptions.create(model="openai/whisper-1", file=("talk.wav", SPEECH, "audio/wav"))
    finally:
        upstreams["openai"].submit_error = None
    details = caught.value.body["details"]  # type: ignore[index]
    assert caught.value.response.headers["X-Atelier-Job-Id"] == details["job_id"]
    assert details["job_error"]["code"] == "UPSTREAM_REJECTED"
    assert ledger_sum(caller.account_id) == before
