"""Upstream providers end to end: API → real Celery worker → fake provider → storage → credits."""

from __future__ import annotations

import io
import json
import os
import time

import pytest
from PIL import Image

from tests.media_samples import wav_bytes
from tests.providers.fakes import FakeFal, FakeOpenAI, FakeReplicate
from tests.support import ledger_sum, wait_for_job


def _reset() -> None:
    from tests.conftest import _reset_caches
    from workers.providers import registry

    _reset_caches()
    registry.reset()


@pytest.fixture(scope="module")
def upstreams(stack_env):
    with FakeFal() as fal, FakeReplicate() as replicate, FakeOpenAI() as openai:
        env = {
            "ATELIER_FAL_KEY": fal.key, "ATELIER_FAL_QUEUE_URL": fal.base_url,
            "ATELIER_FAL_VOICE_REFS": json.dumps({"narrator": fal.serve_file("ref.wav", wav_bytes(), "audio/wav")}),
            "ATELIER_REPLICATE_API_TOKEN": replicate.key, "ATELIER_REPLICATE_BASE_URL": replicate.base_url,
            "ATELIER_OPENAI_API_KEY": openai.key, "ATELIER_OPENAI_BASE_URL": openai.base_url,
        }
        os.environ.update(env)
        _reset()
        try:
            yield {"fal": fal, "replicate": replicate, "openai": openai}
        finally:
            for name in env:
                os.environ.pop(name, None)
            _reset()


@pytest.fixture
def fakes(upstreams):
    """Each test starts with well-behaved fakes."""
    for fake in upstreams.values():
        fake.submit_error = None
        fake.submit_delay = 0.0
    upstreams["fal"].queue_polls = upstreams["fal"].progress_polls = 1
    return upstreams


def submit(client, caller, **body):
    response = client.post("/v1/jobs", json=body, headers=caller.headers)
    assert response.status_code == 202, response.text
    return response.json()


def wait_submitted(client, caller, job_id: str, timeout: float = 20.0) -> dict:
    """The job's upstream record once the provider has accepted it (it has a request id)."""
    deadline = time.monotonic() + timeout
    while "request_id" not in (upstream := client.get(f"/v1/jobs/{job_id}", headers=caller.headers)
                               .json()["upstream"] or {}):
        assert time.monotonic() < deadline, f"{job_id} was never submitted upstream"
        time.sleep(0.1)
    return upstream


def assert_png(client, caller, asset):
    body = client.get(f"/v1/assets/{asset['id']}/content", headers=caller.headers)
    assert body.status_code == 200
    Image.open(io.BytesIO(body.content)).verify()
    assert asset["width"] and asset["height"]


def test_models_list_exactly_what_can_run(client, make_account, fakes):
    caller = make_account()
    ids = {m["id"] for m in client.get("/v1/models", headers=caller.headers).json()["data"]}
    assert {"fal-ai/flux/dev", "black-forest-labs/flux-schnell", "openai/gpt-image-1", "openai/tts-1",
            "fal-ai/stable-audio", "local/sketch-1"} <= ids


@pytest.mark.parametrize("model", ["fal-ai/flux/dev", "black-forest-labs/flux-schnell", "openai/gpt-image-1"])
def test_text_to_image_through_each_adapter(client, celery_worker, make_account, fakes, model):
    caller = make_account(credits=10)
    job = submit(client, caller, mode="text_to_image", prompt="a brass compass", model=model, size="1024x1024")
    done = wait_for_job(client, caller, job["id"])
    assert done["status"] == "completed", done
    assert done["model"] == model and done["credits_charged"] == 1
    assert_png(client, caller, done["result"]["assets"][0])
    assert ledger_sum(caller.account_id) == (9, 9)


def test_speech_through_openai_is_priced_by_measured_duration(client, celery_worker, make_account, fakes):
    caller = make_account(credits=10)
    job = submit(client, caller, mode="audio", voice_text="Hello from upstream.", model="openai/tts-1")
    done = wait_for_job(client, caller, job["id"])
    assert done["status"] == "completed", done
    asset = done["result"]["assets"][0]
    assert asset["kind"] == "audio" and asset["duration_seconds"] > 0
    assert done["credits_charged"] == 1  # a short clip: one started 10 s unit


def test_voice_cloning_speech_through_fal_uses_the_configured_reference(client, celery_worker, make_account,
                                                                        fakes):
    caller = make_account(credits=10)
    job = submit(client, caller, mode="audio", voice_text="Cloned, politely.", voice_id="narrator",
                 model="fal-ai/f5-tts")
    done = wait_for_job(client, caller, job["id"])
    assert done["status"] == "completed", done
    submitted = next(j for j in fakes["fal"].jobs.values() if j["input"].get("gen_text") == "Cloned, politely.")
    assert submitted["input"]["ref_audio_url"].endswith("/files/ref.wav")
    assert done["result"]["assets"][0]["kind"] == "audio"


def test_music_through_fal(client, celery_worker, make_account, fakes):
    caller = make_account(credits=10)
    job = submit(client, caller, mode="music", prompt="calm piano", duration_seconds=5, model="fal-ai/stable-audio")
    done = wait_for_job(client, caller, job["id"])
    assert done["status"] == "completed", done
    assert done["result"]["assets"][0]["content_type"] in ("audio/wav", "audio/mpeg")


def test_fallback_to_the_next_provider_on_upstream_5xx(client, celery_worker, make_account, fakes):
    fal, replicate = fakes["fal"], fakes["replicate"]
    fal.submit_error = 503
    before = replicate.count("POST")
    caller = make_account(credits=10)
    job = submit(client, caller, mode="text_to_image", prompt="a fallback fox", model="fal-ai/flux/dev")
    done = wait_for_job(client, caller, job["id"], timeout=90)
    assert done["status"] == "completed", done
    assert done["upstream"]["provider"] == "replicate"
    assert done["upstream"]["model"] == "black-forest-labs/flux-schnell"
    assert replicate.count("POST") > before
    assert done["credits_charged"] == 1


def test_upstream_rejection_fails_the_job_and_releases_the_hold(client, celery_worker, make_account, fakes):
    fakes["fal"].submit_error = 422
    caller = make_account(credits=10)
    job = submit(client, caller, mode="text_to_image", prompt="x", model="fal-ai/flux/dev")
    done = wait_for_job(client, caller, job["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "UPSTREAM_REJECTED"
    assert "Field required" in done["error"]["message"]
    assert fakes["fal"].key not in done["error"]["message"]
    credits = client.get("/v1/account", headers=caller.headers).json()["credits"]
    assert (credits["balance"], credits["held"]) == (10, 0)
    assert ledger_sum(caller.account_id) == (10, 10)


def test_exhausted_retries_without_fallback_is_upstream_unavailable(client, celery_worker, make_account, fakes):
    from workers import upstream

    fakes["fal"].submit_error = 500
    caller = make_account(credits=10)
    job = submit(client, caller, mode="music", prompt="x", duration_seconds=5, model="fal-ai/stable-audio")
    done = wait_for_job(client, caller, job["id"])
    assert done["status"] == "failed" and done["error"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert fakes["fal"].count("POST", "stable-audio") >= upstream.SUBMIT_ATTEMPTS
    assert ledger_sum(caller.account_id) == (10, 10)


def test_a_pending_upstream_job_does_not_block_a_local_one(client, celery_worker, make_account, fakes):
    """The session's worker has one slot (concurrency 1): the fal job waits between short polls."""
    fal = fakes["fal"]
    fal.queue_polls = 10**6
    caller = make_account(credits=20)
    slow = submit(client, caller, mode="text_to_image", prompt="slow upstream", model="fal-ai/flux/dev")
    wait_submitted(client, caller, slow["id"])
    fast = submit(client, caller, mode="text_to_image", prompt="quick local", size="512x512")
    done = wait_for_job(client, caller, fast["id"], timeout=60)
    assert done["status"] == "completed"
    pending = client.get(f"/v1/jobs/{slow['id']}", headers=caller.headers).json()
    assert pending["status"] == "running"
    fal.queue_polls = 0
    assert wait_for_job(client, caller, slow["id"], timeout=60)["status"] == "completed"


def test_cancel_reaches_the_providers_cancel_endpoint(client, celery_worker, make_account, fakes):
    fal = fakes["fal"]
    fal.queue_polls = 10**6
    caller = make_account(credits=10)
    job = submit(client, caller, mode="text_to_image", prompt="never mind", model="fal-ai/flux/dev")
    upstream = wait_submitted(client, caller, job["id"])
    assert client.post(f"/v1/jobs/{job['id']}/cancel", headers=caller.headers).json()["status"] == "aborted"
    deadline = time.monotonic() + 20
    while upstream["request_id"] not in fal.cancels:
        assert time.monotonic() < deadline, "the cancel never reached fal"
        time.sleep(0.1)
    assert ledger_sum(caller.account_id) == (10, 10)


def test_provider_callback_token_is_verified(client, stack_env):
    from shared import signed
    from shared.settings import get_settings

    assert client.post("/v1/providers/fal/callback/job_x.forged").status_code == 404
    token = signed.callback_token(get_settings(), "fal", "job_doesnotexist")
    assert client.post(f"/v1/providers/fal/callback/{token}").status_code == 202
    assert client.post(f"/v1/providers/replicate/callback/{token}").status_code == 404


def test_a_size_the_upstream_model_cannot_make_is_refused_before_anything_is_created(
        client, celery_worker, make_account, fakes):
    openai = fakes["openai"]
    caller = make_account(credits=10)
    before = openai.count("POST", "/images/generations")
    for path, body in (("/v1/jobs", {"mode": "text_to_image", "prompt": "a wide fox", "model": "openai/gpt-image-1",
                                     "size": "1792x1024"}),
                       ("/v1/images/generations", {"prompt": "a wide fox", "model": "openai/gpt-image-1",
                                                   "size": "1792x1024"})):
        refused = client.post(path, json=body, headers=caller.headers)
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert error["code"] == "VALIDATION_ERROR" and error["param"] == "size"
        assert error["details"]["errors"] == [{"field": "size", "message": "openai/gpt-image-1 makes 1024x1024 only"}]
    assert client.get("/v1/jobs", headers=caller.headers).json()["data"] == []
    credits = client.get("/v1/account", headers=caller.headers).json()["credits"]
    assert (credits["balance"], credits["held"]) == (10, 0) and ledger_sum(caller.account_id) == (10, 10)
    # A size it makes goes upstream exactly as asked.
    job = submit(client, caller, mode="text_to_image", prompt="a square fox", model="openai/gpt-image-1",
                 size="1024x1024")
    assert wait_for_job(client, caller, job["id"])["status"] == "completed"
    [call] = [r for r in openai.requests if r.path.endswith("/images/generations")][before:]
    assert call.json()["size"] == "1024x1024"
