"""The fal, Replicate and OpenAI adapters against loopback fakes of their HTTP protocols."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from PIL import Image

from shared.media.sniff import sniff_content_type
from shared.net import guarded_client
from tests.providers.fakes import FakeFal, FakeJobContext, FakeOpenAI, FakeReplicate, png_bytes
from workers.providers.base import (
    GenerationFailed,
    GenerationRequest,
    InputFile,
    Output,
    PollResult,
    ProviderError,
    UpstreamHandle,
    UpstreamRejected,
    UpstreamUnavailable,
)
from workers.providers.fal import FalProvider
from workers.providers.http import (
    UpstreamThrottled,
    download_to,
    error_message,
    make_client,
    nearest_aspect_ratio,
    percent_from_logs,
    scrub,
    write_data_uri,
)
from workers.providers.openai import OpenAIProvider
from workers.providers.replicate import ReplicateProvider

# --- helpers --------------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client() as c:
        yield c


@pytest.fixture
def impatient_client() -> Iterator[httpx.Client]:
    with make_client(read=0.3) as c:
        yield c


def job(
    mode: str,
    model: str,
    prompt: str | None = "a red fox in the snow",
    inputs: dict[str, InputFile] | None = None,
    **params: Any,
) -> GenerationRequest:
    return GenerationRequest(
        job_id="job_test123",
        mode=mode,
        model=f"test/{model}",
        provider_model=model,
        prompt=prompt,
        params=params,
        inputs=inputs or {},
    )


def image_input(tmp_path: Path, url: str | None = None) -> InputFile:
    path = tmp_path / "input.png"
    path.write_bytes(png_bytes())
    return InputFile(
        role="image", asset_id="ast_in", kind="image", content_type="image/png", path=path, url=url, width=64, height=48
    )


def run(
    provider: Any, handle: UpstreamHandle, ctx: FakeJobContext, max_polls: int = 10
) -> tuple[PollResult, list[PollResult]]:
    seen = []
    for _ in range(max_polls):
        result = provider.poll(handle, ctx)
        seen.append(result)
        if result.state != "pending":
            return result, seen
    raise AssertionError(f"still pending after {max_polls} polls")


def assert_decodes(output: Output, workdir: Path) -> None:
    assert output.path.is_file() and output.path.parent == workdir
    if output.kind == "image":
        with Image.open(output.path) as image:
            image.load()
            assert image.size == (64, 48)
        return
    with av.open(str(output.path)) as container:
        stream = next(s for s in container.streams if s.type == output.kind)
        assert next(container.decode(stream)) is not None


def assert_clean(error: BaseException, secret: str) -> None:
    """The credential is nowhere in the error, its repr, or anything chained to it."""
    for text in (str(error), repr(error), getattr(error, "message", ""), repr(error.args)):
        assert secret not in text
    assert error.__cause__ is None and error.__context__ is None


def fal_provider(fake: FakeFal, client: httpx.Client, **kwargs: Any) -> FalProvider:
    return FalProvider(fake.key, fake.base_url, client, allow_private_urls=True, **kwargs)


def replicate_provider(fake: FakeReplicate, client: httpx.Client, **kwargs: Any) -> ReplicateProvider:
    return ReplicateProvider(fake.key, fake.base_url, client, allow_private_urls=True, **kwargs)


def openai_provider(fake: FakeOpenAI, client: httpx.Client, **kwargs: Any) -> OpenAIProvider:
    return OpenAIProvider(fake.key, fake.base_url, client, allow_private_urls=True, **kwargs)


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


# --- Replicate ------------------------------------------------------------------------------


def test_replicate_flux_completes(replicate_fake: FakeReplicate, job_ctx: FakeJobContext, client: httpx.Client) -> None:
    provider = replicate_provider(replicate_fake, client)
    handle = provider.submit(job("text_to_image", "black-forest-labs/flux-schnell", n=2, size="1792x1024", seed=3))

    create = next(r for r in replicate_fake.requests if r.method == "POST")
    assert create.path == "/v1/models/black-forest-labs/flux-schnell/predictions"
    assert create.headers["authorization"] == f"Bearer {replicate_fake.key}"
    assert "prefer" not in create.headers
    assert create.json() == {
        "input": {
            "prompt": "a red fox in the snow",
            "num_outputs": 2,
            "aspect_ratio": "16:9",
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


# --- OpenAI ---------------------------------------------------------------------------------


def test_openai_image_generation(openai_fake: FakeOpenAI, job_ctx: FakeJobContext, client: httpx.Client) -> None:
    provider = openai_provider(openai_fake, client)
    handle = provider.submit(job("text_to_image", "gpt-image-1", n=2, size="1792x1024"))
    assert openai_fake.requests == []  # submit prepares; the paid call happens in poll

    result = provider.poll(handle, job_ctx)
    assert result.state == "completed"
    [call] = openai_fake.requests
    assert call.path == "/v1/images/generations"
    assert call.headers["authorization"] == f"Bearer {openai_fake.key}"
    assert call.json() == {"model": "gpt-image-1", "prompt": "a red fox in the snow", "n": 2, "size": "1536x1024"}
    assert [o.content_type for o in result.outputs] == ["image/png", "image/png"]
    for output in result.outputs:
        assert_decodes(output, job_ctx.workdir)


def test_openai_image_edit_is_multipart(
    openai_fake: FakeOpenAI, job_ctx: FakeJobContext, client: httpx.Client, tmp_path: Path
) -> None:
    provider = openai_provider(openai_fake, client)
    handle = provider.submit(
        job("image_to_image", "gpt-image-1", inputs={"image": image_input(tmp_path)}, size="1024x1024")
    )
    result = provider.poll(handle, job_ctx)
    assert result.state == "completed"
    [edit] = openai_fake.edits
    assert edit["fields"] == {"model": "gpt-image-1", "prompt": "a red fox in the snow", "n": "1", "size": "1024x1024"}
    assert edit["files"]["image"] == ("input.png", png_bytes())


def test_openai_edit_falls_back_to_the_signed_url(
    openai_fake: FakeOpenAI, job_ctx: FakeJobContext, client: httpx.Client, tmp_path: Path
) -> None:
    url = openai_fake.serve_file("signed-input.png", png_bytes(), "image/png")
    provider = openai_provider(openai_fake, client)
    handle = provider.submit(job("image_to_image", "gpt-image-1", inputs={"image": image_input(tmp_path, url=url)}))
    (tmp_path / "input.png").unlink()  # polled on a worker that never had the file
    result = provider.poll(handle, job_ctx)
    assert result.state == "completed"
    assert openai_fake.edits[0]["files"]["image"][1] == png_bytes()


@pytest.mark.parametrize(
    ("voice_id", "voice", "fmt", "content_type"),
    [
        ("narrator", "onyx", "mp3", "audio/mpeg"),
        ("casual_female", "nova", "wav", "audio/wav"),
        ("news_anchor", "alloy", None, "audio/mpeg"),
    ],
)
def test_openai_speech(
    openai_fake: FakeOpenAI,
    job_ctx: FakeJobContext,
    client: httpx.Client,
    voice_id: str,
    voice: str,
    fmt: str | None,
    content_type: str,
) -> None:
    provider = openai_provider(openai_fake, client)
    params: dict[str, Any] = {"voice_text": "Good evening.", "voice_id": voice_id}
    if fmt:
        params["output_format"] = fmt
    result = provider.poll(provider.submit(job("audio", "tts-1", prompt=None, **params)), job_ctx)
    assert result.state == "completed"
    [call] = openai_fake.requests
    assert call.path == "/v1/audio/speech"
    assert call.json() == {"model": "tts-1", "input": "Good evening.", "voice": voice, "response_format": fmt or "mp3"}
    [output] = result.outputs
    assert output.content_type == content_type and output.kind == "audio"
    assert_decodes(output, job_ctx.workdir)


def test_openai_400_is_rejected_with_the_message(
    openai_fake: FakeOpenAI, job_ctx: FakeJobContext, client: httpx.Client
) -> None:
    openai_fake.submit_error = 400
    provider = openai_provider(openai_fake, client)
    result = provider.poll(provider.submit(job("text_to_image", "gpt-image-1")), job_ctx)
    assert result.state == "failed" and isinstance(result.error, UpstreamRejected)
    assert result.error.message == "openai: Your request was rejected as a result of our safety system. (HTTP 400)"


@pytest.mark.parametrize("status", [500, 429])
def test_openai_500_and_429_are_unavailable(
    openai_fake: FakeOpenAI, job_ctx: FakeJobContext, client: httpx.Client, status: int
) -> None:
    openai_fake.submit_error = status
    provider = openai_provider(openai_fake, client)
    handle = provider.submit(job("text_to_image", "gpt-image-1"))
    with pytest.raises(UpstreamUnavailable):
        provider.poll(handle, job_ctx)


def test_openai_timeout_is_unavailable(
    openai_fake: FakeOpenAI, job_ctx: FakeJobContext, impatient_client: httpx.Client
) -> None:
    openai_fake.submit_delay = 1.0
    provider = openai_provider(openai_fake, impatient_client)
    handle = provider.submit(job("audio", "tts-1", prompt=None, voice_text="Hi"))
    with pytest.raises(UpstreamUnavailable, match="timed out"):
        provider.poll(handle, job_ctx)
    assert list(job_ctx.workdir.iterdir()) == []


def test_openai_undecodable_output_fails_the_generation(
    openai_fake: FakeOpenAI, job_ctx: FakeJobContext, client: httpx.Client
) -> None:
    openai_fake.broken_output = True
    provider = openai_provider(openai_fake, client)
    result = provider.poll(provider.submit(job("text_to_image", "gpt-image-1")), job_ctx)
    assert result.state == "failed" and isinstance(result.error, GenerationFailed)
    assert list(job_ctx.workdir.iterdir()) == []


def test_openai_cancel_and_unsupported_modes(openai_fake: FakeOpenAI, client: httpx.Client) -> None:
    provider = openai_provider(openai_fake, client)
    provider.cancel(provider.submit(job("text_to_image", "gpt-image-1")))
    assert openai_fake.requests == []  # a synchronous API has nothing to cancel
    with pytest.raises(ProviderError, match="does not support mode 'text_to_video'"):
        provider.submit(job("text_to_video", "gpt-image-1"))


# --- credentials ----------------------------------------------------------------------------


def _failing_errors(fake: Any, provider: Any, request: GenerationRequest, ctx: FakeJobContext) -> list[ProviderError]:
    """Errors from a wrong key, and from a provider that echoes the key it was sent."""
    errors: list[ProviderError] = []
    for echo in (False, True):
        fake.echo_key_in_errors = echo
        try:
            result = provider.poll(provider.submit(request), ctx)
        except ProviderError as error:
            errors.append(error)
        else:
            assert result.state == "failed" and result.error is not None
            errors.append(result.error)
    return errors


@pytest.mark.parametrize("which", ["fal", "replicate", "openai"])
def test_the_credential_never_leaks(
    which: str,
    fal_fake: FakeFal,
    replicate_fake: FakeReplicate,
    openai_fake: FakeOpenAI,
    job_ctx: FakeJobContext,
    client: httpx.Client,
) -> None:
    secret = "sk-wrong-but-secret-0123456789"
    provider: Any
    if which == "fal":
        fake: Any = fal_fake
        provider = FalProvider(secret, fal_fake.base_url, client)
        request = job("text_to_image", "fal-ai/flux/schnell")
    elif which == "replicate":
        fake = replicate_fake
        provider = ReplicateProvider(secret, replicate_fake.base_url, client)
        request = job("text_to_image", "black-forest-labs/flux-schnell")
    else:
        fake = openai_fake
        provider = OpenAIProvider(secret, openai_fake.base_url, client)
        request = job("text_to_image", "gpt-image-1")

    errors = _failing_errors(fake, provider, request, job_ctx)
    assert [type(e) for e in errors] == [UpstreamRejected, UpstreamRejected]
    assert all("HTTP 401" in e.message for e in errors)
    assert "[redacted]" in errors[1].message  # the echoed key was scrubbed
    for error in errors:
        assert_clean(error, secret)
    assert secret not in repr(provider)
    assert fake.requests[0].headers["authorization"].endswith(secret)  # it was sent, as a header only

    fake.echo_key_in_errors = False
    fake.key = secret
    fake.submit_error = 500
    with pytest.raises(ProviderError) as caught:
        provider.poll(provider.submit(request), job_ctx)
    assert_clean(caught.value, secret)


def test_connection_errors_are_unavailable_and_clean(job_ctx: FakeJobContext, client: httpx.Client) -> None:
    with FakeFal() as gone:
        url = gone.base_url
    with pytest.raises(UpstreamUnavailable, match="connection failed") as caught:
        FalProvider("fal-secret-key-0123456789", url, client).submit(job("text_to_image", "fal-ai/flux/schnell"))
    assert_clean(caught.value, "fal-secret-key-0123456789")


# --- downloads and plumbing -----------------------------------------------------------------


def test_oversized_outputs_are_refused(fal_fake: FakeFal, job_ctx: FakeJobContext, client: httpx.Client) -> None:
    provider = fal_provider(fal_fake, client, max_download_bytes=100)
    result, _ = run(provider, provider.submit(job("text_to_image", "fal-ai/flux/schnell")), job_ctx)
    assert result.state == "failed" and isinstance(result.error, GenerationFailed)
    assert "limit" in result.error.message
    assert list(job_ctx.workdir.iterdir()) == []


def test_outputs_on_private_addresses_are_refused_by_default(
    fal_fake: FakeFal, job_ctx: FakeJobContext, client: httpx.Client
) -> None:
    provider = FalProvider(fal_fake.key, fal_fake.base_url, client)  # allow_private_urls=False
    result, _ = run(provider, provider.submit(job("text_to_image", "fal-ai/flux/schnell")), job_ctx)
    assert result.state == "failed" and "private address" in str(result.error)
    assert fal_fake.count("GET", "/files/") == 0


def test_downloads_follow_redirects_checking_every_hop(fal_fake: FakeFal, tmp_path: Path) -> None:
    client = guarded_client(allow_private=True, timeout=5)
    target = fal_fake.serve_file("real.png", png_bytes(), "application/octet-stream")
    saved = download_to(client, fal_fake.serve_redirect("hop", target), tmp_path / "a")
    assert saved.path == tmp_path / "a.png" and saved.content_type == "image/png"  # sniffed, not declared

    metadata = fal_fake.serve_redirect("evil", "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(GenerationFailed, match="link-local"):
        download_to(client, metadata, tmp_path / "b")
    with pytest.raises(UpstreamRejected, match="HTTP 302"):
        download_to(
            client, fal_fake.serve_redirect("hop2", target), tmp_path / "c", follow_redirects=False
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_error_message_shapes() -> None:
    assert error_message(
        {"detail": [{"loc": ["body", "image_url"], "msg": "Image too small", "type": "image_too_small"}]}
    ) == ("image_url: Image too small")
    assert (
        error_message({"title": "Input validation failed", "detail": "- input.seed: bad", "status": 422})
        == "- input.seed: bad"
    )
    assert (
        error_message({"error": {"message": "Invalid size", "type": "invalid_request_error", "code": None}})
        == "Invalid size"
    )
    assert error_message({"message": "nope"}) == "nope"
    assert error_message({"unrelated": 1}) is None


def test_scrub() -> None:
    assert scrub("sent Authorization: Bearer abcdef123456 to x", ()) == "sent Authorization: [redacted] to x"
    assert scrub("token Bearer abcdef123456", ()) == "token Bearer [redacted]"
    assert scrub("your key k-123456 is bad", ["k-123456"]) == "your key [redacted] is bad"


def test_sniffing_and_data_uris(tmp_path: Path) -> None:
    assert sniff_content_type(png_bytes()) == "image/png"
    assert sniff_content_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_content_type(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "audio/wav"
    assert sniff_content_type(b"ID3\x04") == "audio/mpeg"
    assert sniff_content_type(b"\x00\x00\x00\x18ftypisom") == "video/mp4"
    assert sniff_content_type(b"hello") is None

    saved = write_data_uri("data:image/png;base64," + base64.b64encode(png_bytes()).decode(), tmp_path / "out")
    assert saved.path == tmp_path / "out.png" and saved.content_type == "image/png" and saved.size == len(png_bytes())
    with pytest.raises(GenerationFailed):
        write_data_uri("data:text/plain,hello", tmp_path / "text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_progress_and_aspect_helpers() -> None:
    assert percent_from_logs("Using seed: 1\n 45%|####5     | 9/20 [00:03<00:04]") == 45.0
    assert percent_from_logs("step\n 9/20 [00:03<00:04]") == 45.0
    assert percent_from_logs("loading weights") is None
    ratios = ("1:1", "16:9", "9:16", "4:3")
    assert nearest_aspect_ratio(1024, 1024, ratios) == "1:1"
    assert nearest_aspect_ratio(1792, 1024, ratios) == "16:9"
    assert nearest_aspect_ratio(1024, 1792, ratios) == "9:16"
