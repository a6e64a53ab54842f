"""The fal adapter against a loopback fake of fal's queue API."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.providers.adapters.support import (
    assert_decodes,
    fal_provider,
    image_input,
    job,
    run,
)
from tests.providers.fakes import FakeFal, FakeJobContext, png_bytes
from workers.providers.base import (
    GenerationFailed,
    ProviderError,
    UpstreamRejected,
    UpstreamUnavailable,
)
from workers.providers.http import (
    UpstreamThrottled,
)

# --- fal ------------------------------------------------------------------------------------


def test_fal_text_to_image_completes(fal_fake: FakeFal, job_ctx: FakeJobContext, client: httpx.Client) -> None:
    provider = fal_provider(fal_fake, client)
    handle = provider.submit(job("text_to_image", "fal-ai/flux/schnell", n=2, size="512x512", seed=7))

    sent = fal_fake.jobs[handle.request_id]
    assert sent["input"] == {
        "prompt": "a red fox in the snow",
        "image_size": {"width": 512, "height": 512},
        "num_images": 2,
        "seed": 7,
    }
    # Status and result live under the app id, without the model's subpath.
    assert handle.data["status_url"] == f"{fal_fake.base_url}/fal-ai/flux/requests/{handle.request_id}/status"

    result, seen = run(provider, handle, job_ctx)
    assert [(r.state, r.progress) for r in seen[:2]] == [("pending", 0.0), ("pending", 50.0)]
    assert result.state == "completed" and result.error is None
    assert [(o.kind, o.content_type) for o in result.outputs] == [("image", "image/png")] * 2
    for output in result.outputs:
        assert_decodes(output, job_ctx.workdir)

    api_calls = [r for r in fal_fake.requests if not r.path.startswith("/files/")]
    downloads = [r for r in fal_fake.requests if r.path.startswith("/files/")]
    assert all(r.headers["authorization"] == f"Key {fal_fake.key}" for r in api_calls)
    assert len(downloads) == 2 and all("authorization" not in r.headers for r in downloads)
    assert all(r.query.get("logs") == "1" for r in api_calls if r.path.endswith("/status"))


@pytest.mark.parametrize(
    ("mode", "model", "params", "expected_input", "content_type"),
    [
        (
            "music",
            "fal-ai/stable-audio",
            {"duration_seconds": 12},
            {"prompt": "a red fox in the snow", "seconds_total": 12},
            "audio/wav",
        ),
        (
            "audio",
            "fal-ai/f5-tts",
            {"voice_text": "Hello there", "voice_id": "narrator"},
            {"gen_text": "Hello there", "ref_audio_url": "https://voices.example/narrator.wav", "model_type": "F5-TTS"},
            "audio/mpeg",
        ),
        (
            "text_to_video",
            "fal-ai/minimax/hailuo-02/standard/text-to-video",
            {"duration_seconds": 5},
            {"prompt": "a red fox in the snow", "duration": "6"},
            "video/mp4",
        ),
    ],
)
def test_fal_media_modes(
    fal_fake: FakeFal,
    job_ctx: FakeJobContext,
    client: httpx.Client,
    mode: str,
    model: str,
    params: dict[str, Any],
    expected_input: dict[str, Any],
    content_type: str,
) -> None:
    provider = fal_provider(fal_fake, client, voice_refs={"narrator": "https://voices.example/narrator.wav"})
    prompt = None if mode == "audio" else "a red fox in the snow"
    handle = provider.submit(job(mode, model, prompt=prompt, **params))
    assert fal_fake.jobs[handle.request_id]["input"] == expected_input

    result, _ = run(provider, handle, job_ctx)
    assert result.state == "completed"
    [output] = result.outputs
    assert output.content_type == content_type and output.kind == content_type.split("/")[0]
    assert_decodes(output, job_ctx.workdir)


def test_fal_image_input_is_signed_url_or_data_uri(fal_fake: FakeFal, client: httpx.Client, tmp_path: Path) -> None:
    provider = fal_provider(fal_fake, client)
    model = "fal-ai/flux/dev/image-to-image"
    signed = image_input(tmp_path, url="https://storage.example/in.png?sig=abc")
    with_url = provider.submit(job("image_to_image", model, inputs={"image": signed}, strength=0.6))
    inline = provider.submit(job("image_to_image", model, inputs={"image": image_input(tmp_path)}))

    assert fal_fake.jobs[with_url.request_id]["input"] == {
        "prompt": "a red fox in the snow",
        "image_url": "https://storage.example/in.png?sig=abc",
        "num_images": 1,
        "strength": 0.6,
    }
    data_uri = fal_fake.jobs[inline.request_id]["input"]["image_url"]
    assert data_uri == "data:image/png;base64," + base64.b64encode(png_bytes()).decode()


def test_fal_f5_tts_without_a_reference_voice_is_refused(fal_fake: FakeFal, client: httpx.Client) -> None:
    with pytest.raises(ProviderError, match="reference recording"):
        fal_provider(fal_fake, client).submit(job("audio", "fal-ai/f5-tts", voice_text="Hi", voice_id="narrator"))
    assert fal_fake.count("POST") == 0


def test_fal_422_is_rejected_with_the_message(fal_fake: FakeFal, client: httpx.Client) -> None:
    fal_fake.submit_error = 422
    with pytest.raises(UpstreamRejected) as caught:
        fal_provider(fal_fake, client).submit(job("text_to_image", "fal-ai/flux/schnell"))
    assert caught.value.message == "fal: prompt: Field required (HTTP 422)"
    assert not caught.value.retryable


@pytest.mark.parametrize("status", [500, 429])
def test_fal_500_and_429_are_unavailable(fal_fake: FakeFal, client: httpx.Client, status: int) -> None:
    fal_fake.submit_error = status
    with pytest.raises(UpstreamUnavailable) as caught:
        fal_provider(fal_fake, client).submit(job("text_to_image", "fal-ai/flux/schnell"))
    assert caught.value.retryable
    if status == 429:
        assert isinstance(caught.value, UpstreamThrottled) and caught.value.retry_after == 3.0


def test_fal_submit_timeout_is_unavailable(fal_fake: FakeFal, impatient_client: httpx.Client) -> None:
    fal_fake.submit_delay = 1.0
    with pytest.raises(UpstreamUnavailable, match="timed out"):
        fal_provider(fal_fake, impatient_client).submit(job("text_to_image", "fal-ai/flux/schnell"))


def test_fal_generation_failure(fal_fake: FakeFal, job_ctx: FakeJobContext, client: httpx.Client) -> None:
    fal_fake.generation_error = 422
    provider = fal_provider(fal_fake, client)
    result, _ = run(provider, provider.submit(job("text_to_image", "fal-ai/flux/schnell")), job_ctx)
    assert result.state == "failed" and isinstance(result.error, GenerationFailed)
    assert "flagged by a content checker" in result.error.message
    assert list(job_ctx.workdir.iterdir()) == []


def test_fal_stored_500_fails_only_when_not_retryable(
    fal_fake: FakeFal, job_ctx: FakeJobContext, client: httpx.Client
) -> None:
    provider = fal_provider(fal_fake, client)
    handle = provider.submit(job("text_to_image", "fal-ai/flux/schnell"))
    fal_fake.generation_error = 500
    for _ in range(2):
        assert provider.poll(handle, job_ctx).state == "pending"
    with pytest.raises(UpstreamUnavailable):  # may be a passing fault: poll again later
        provider.poll(handle, job_ctx)
    fal_fake.generation_retryable = "false"
    result = provider.poll(handle, job_ctx)
    assert result.state == "failed" and isinstance(result.error, GenerationFailed)


def test_fal_cancel_reaches_the_cancel_endpoint(
    fal_fake: FakeFal, job_ctx: FakeJobContext, client: httpx.Client
) -> None:
    provider = fal_provider(fal_fake, client)
    queued = provider.submit(job("text_to_image", "fal-ai/flux/schnell"))
    provider.cancel(queued)
    assert fal_fake.cancels == [queued.request_id]
    assert fal_fake.count("PUT", f"/fal-ai/flux/requests/{queued.request_id}/cancel") == 1

    finished = provider.submit(job("text_to_image", "fal-ai/flux/schnell"))
    run(provider, finished, job_ctx)
    provider.cancel(finished)  # 400 ALREADY_COMPLETED is tolerated
    assert fal_fake.cancels == [queued.request_id, finished.request_id]


def test_fal_webhook_goes_in_the_query(fal_fake: FakeFal, client: httpx.Client) -> None:
    provider = fal_provider(
        fal_fake, client, callback_url=lambda r: f"https://atelier.example/hooks/fal?job={r.job_id}"
    )
    handle = provider.submit(job("text_to_image", "fal-ai/flux/schnell"))
    assert fal_fake.jobs[handle.request_id]["webhook"] == "https://atelier.example/hooks/fal?job=job_test123"


def test_fal_never_sends_the_key_to_a_foreign_host(
    fal_fake: FakeFal, job_ctx: FakeJobContext, client: httpx.Client
) -> None:
    fal_fake.foreign_urls = True
    provider = fal_provider(fal_fake, client)
    handle = provider.submit(job("text_to_image", "fal-ai/flux/schnell"))
    assert all(url.startswith(fal_fake.base_url) for url in handle.data.values() if url.startswith("http"))
    result, _ = run(provider, handle, job_ctx)
    assert result.state == "completed"
