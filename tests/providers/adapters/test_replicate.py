"""The Replicate adapter against a loopback fake of its predictions API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.providers.adapters.support import (
    assert_decodes,
    image_input,
    job,
    replicate_provider,
    run,
)
from tests.providers.fakes import FakeJobContext, FakeReplicate
from workers.providers.base import (
    GenerationFailed,
    ProviderError,
    UpstreamRejected,
    UpstreamUnavailable,
)

# --- Replicate ------------------------------------------------------------------------------


def test_replicate_flux_completes(replicate_fake: FakeReplicate, job_ctx: FakeJobContext, client: httpx.Client) -> None:
    provider = replicate_provider(replicate_fake, client)
    handle = provider.submit(job("text_to_image", "black-forest-labs/flux-schnell", n=2, size="1024x1024", seed=3))

    create = next(r for r in replicate_fake.requests if r.method == "POST")
    assert create.path == "/v1/models/black-forest-labs/flux-schnell/predictions"
    assert create.headers["authorization"] == f"Bearer {replicate_fake.key}"
    assert "prefer" not in create.headers
    assert create.json() == {
        "input": {
            "prompt": "a red fox in the snow",
            "num_outputs": 2,
            "aspect_ratio": "1:1",
            "output_format": "png",
            "seed": 3,
        }
    }

    result, seen = run(provider, handle, job_ctx)
    assert [(r.state, r.progress) for r in seen[:2]] == [("pending", 0.0), ("pending", 50.0)]
    assert result.state == "completed"
    assert [o.content_type for o in result.outputs] == ["image/png", "image/png"]
    for output in result.outputs:
        assert_decodes(output, job_ctx.workdir)
    assert all("authorization" not in r.headers for r in replicate_fake.requests if r.path.startswith("/files/"))


@pytest.mark.parametrize(("size", "megapixels"), [("512x512", "0.25"), ("1024x1024", None)])
def test_replicate_flux_gets_exactly_the_size_asked(
    replicate_fake: FakeReplicate, client: httpx.Client, size: str, megapixels: str | None
) -> None:
    replicate_provider(replicate_fake, client).submit(job("text_to_image", "black-forest-labs/flux-schnell", size=size))
    sent = next(r for r in replicate_fake.requests if r.method == "POST").json()["input"]
    assert (sent["aspect_ratio"], sent.get("megapixels")) == ("1:1", megapixels)


def test_replicate_refuses_a_size_without_its_exact_aspect_ratio(
    replicate_fake: FakeReplicate, client: httpx.Client
) -> None:
    provider = replicate_provider(replicate_fake, client)
    with pytest.raises(ProviderError, match="1792x1024 is not one of the aspect ratios"):
        provider.submit(job("text_to_image", "black-forest-labs/flux-schnell", size="1792x1024"))
    assert replicate_fake.requests == []  # never bent to the nearest ratio (16:9 would be 1344x768)


def test_replicate_pinned_version_uses_the_predictions_endpoint(
    replicate_fake: FakeReplicate, client: httpx.Client
) -> None:
    version = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"
    replicate_provider(replicate_fake, client).submit(job("text_to_image", f"black-forest-labs/flux-dev:{version}"))
    create = next(r for r in replicate_fake.requests if r.method == "POST")
    assert create.path == "/v1/predictions" and create.json()["version"] == version


@pytest.mark.parametrize(
    ("mode", "model", "params", "expected_input", "content_type"),
    [
        (
            "music",
            "meta/musicgen",
            {"duration_seconds": 12},
            {"prompt": "a red fox in the snow", "duration": 12, "output_format": "wav"},
            "audio/wav",
        ),
        (
            "music",
            "meta/musicgen",
            {"duration_seconds": 8, "output_format": "mp3"},
            {"prompt": "a red fox in the snow", "duration": 8, "output_format": "mp3"},
            "audio/mpeg",
        ),
        (
            "text_to_video",
            "minimax/hailuo-02",
            {"duration_seconds": 8},
            {"prompt": "a red fox in the snow", "duration": 10},
            "video/mp4",
        ),
    ],
)
def test_replicate_media_modes(
    replicate_fake: FakeReplicate,
    job_ctx: FakeJobContext,
    client: httpx.Client,
    mode: str,
    model: str,
    params: dict[str, Any],
    expected_input: dict[str, Any],
    content_type: str,
) -> None:
    provider = replicate_provider(replicate_fake, client)
    handle = provider.submit(job(mode, model, **params))
    assert replicate_fake.predictions[handle.request_id]["public"]["input"] == expected_input
    result, _ = run(provider, handle, job_ctx)
    [output] = result.outputs
    assert output.content_type == content_type
    assert_decodes(output, job_ctx.workdir)


def test_replicate_image_to_image(
    replicate_fake: FakeReplicate, job_ctx: FakeJobContext, client: httpx.Client, tmp_path: Path
) -> None:
    provider = replicate_provider(replicate_fake, client)
    handle = provider.submit(
        job("image_to_image", "black-forest-labs/flux-dev", inputs={"image": image_input(tmp_path)}, strength=0.7)
    )
    sent = replicate_fake.predictions[handle.request_id]["public"]["input"]
    assert sent["image"].startswith("data:image/png;base64,") and sent["prompt_strength"] == 0.7
    result, _ = run(provider, handle, job_ctx)
    assert result.state == "completed" and len(result.outputs) == 1


def test_replicate_422_is_rejected_with_the_message(replicate_fake: FakeReplicate, client: httpx.Client) -> None:
    replicate_fake.submit_error = 422
    with pytest.raises(UpstreamRejected, match="Must be less than or equal to 4"):
        replicate_provider(replicate_fake, client).submit(job("text_to_image", "black-forest-labs/flux-schnell", n=9))


@pytest.mark.parametrize("status", [500, 503, 429])
def test_replicate_5xx_and_429_are_unavailable(
    replicate_fake: FakeReplicate, client: httpx.Client, status: int
) -> None:
    replicate_fake.submit_error = status
    with pytest.raises(UpstreamUnavailable):
        replicate_provider(replicate_fake, client).submit(job("text_to_image", "black-forest-labs/flux-schnell"))


def test_replicate_submit_timeout_is_unavailable(replicate_fake: FakeReplicate, impatient_client: httpx.Client) -> None:
    replicate_fake.submit_delay = 1.0
    with pytest.raises(UpstreamUnavailable, match="timed out"):
        replicate_provider(replicate_fake, impatient_client).submit(
            job("text_to_image", "black-forest-labs/flux-schnell")
        )


def test_replicate_failed_prediction(
    replicate_fake: FakeReplicate, job_ctx: FakeJobContext, client: httpx.Client
) -> None:
    replicate_fake.generation_error = "CUDA out of memory"
    provider = replicate_provider(replicate_fake, client)
    result, _ = run(provider, provider.submit(job("text_to_image", "black-forest-labs/flux-schnell")), job_ctx)
    assert result.state == "failed" and isinstance(result.error, GenerationFailed)
    assert result.error.message == "replicate: CUDA out of memory"


def test_replicate_cancel(replicate_fake: FakeReplicate, job_ctx: FakeJobContext, client: httpx.Client) -> None:
    provider = replicate_provider(replicate_fake, client)
    running = provider.submit(job("text_to_image", "black-forest-labs/flux-schnell"))
    provider.cancel(running)
    assert replicate_fake.cancels == [running.request_id]
    result = provider.poll(running, job_ctx)
    assert result.state == "failed" and "canceled" in str(result.error)

    finished = provider.submit(job("text_to_image", "black-forest-labs/flux-schnell"))
    run(provider, finished, job_ctx)
    provider.cancel(finished)  # already succeeded: tolerated
    assert replicate_fake.cancels == [running.request_id, finished.request_id]


def test_replicate_webhook_is_in_the_body(replicate_fake: FakeReplicate, client: httpx.Client) -> None:
    provider = replicate_provider(
        replicate_fake, client, callback_url=lambda r: f"https://atelier.example/hooks/replicate?job={r.job_id}"
    )
    handle = provider.submit(job("text_to_image", "black-forest-labs/flux-schnell"))
    state = replicate_fake.predictions[handle.request_id]
    assert state["webhook"] == "https://atelier.example/hooks/replicate?job=job_test123"
    assert state["webhook_events_filter"] == ["completed"]


def test_replicate_never_sends_the_token_to_a_foreign_host(
    replicate_fake: FakeReplicate, job_ctx: FakeJobContext, client: httpx.Client
) -> None:
    replicate_fake.foreign_urls = True
    provider = replicate_provider(replicate_fake, client)
    handle = provider.submit(job("text_to_image", "black-forest-labs/flux-schnell"))
    assert handle.data["get_url"].startswith(replicate_fake.base_url)
    result, _ = run(provider, handle, job_ctx)
    assert result.state == "completed"
