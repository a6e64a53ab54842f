"""The OpenAI adapter against a loopback fake of its images and speech endpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.providers.adapters.support import (
    assert_decodes,
    image_input,
    job,
    openai_provider,
)
from tests.providers.fakes import FakeJobContext, FakeOpenAI, png_bytes, wav_bytes
from workers.providers.base import (
    GenerationFailed,
    ProviderError,
    UpstreamRejected,
    UpstreamUnavailable,
)

# --- OpenAI ---------------------------------------------------------------------------------


def test_openai_image_generation(openai_fake: FakeOpenAI, job_ctx: FakeJobContext, client: httpx.Client) -> None:
    provider = openai_provider(openai_fake, client)
    handle = provider.submit(job("text_to_image", "gpt-image-1", n=2, size="1024x1024"))
    assert openai_fake.requests == []  # submit prepares; the paid call happens in poll

    result = provider.poll(handle, job_ctx)
    assert result.state == "completed"
    [call] = openai_fake.requests
    assert call.path == "/v1/images/generations"
    assert call.headers["authorization"] == f"Bearer {openai_fake.key}"
    assert call.json() == {"model": "gpt-image-1", "prompt": "a red fox in the snow", "n": 2, "size": "1024x1024"}
    assert [o.content_type for o in result.outputs] == ["image/png", "image/png"]
    for output in result.outputs:
        assert_decodes(output, job_ctx.workdir)


@pytest.mark.parametrize(("model", "size"), [("dall-e-3", "1792x1024"), ("dall-e-2", "512x512"),
                                           ("gpt-image-1", "1024x1024")])
def test_openai_image_size_reaches_the_upstream_as_asked(
    openai_fake: FakeOpenAI, job_ctx: FakeJobContext, client: httpx.Client, model: str, size: str
) -> None:
    provider = openai_provider(openai_fake, client)
    assert provider.poll(provider.submit(job("text_to_image", model, size=size)), job_ctx).state == "completed"
    [call] = openai_fake.requests
    assert call.json()["size"] == size


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
        ("casual_male", "echo", "pcm", "audio/pcm"),
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
    assert call.json() == {"model": "tts-1", "input": "Good evening.", "voice": voice, "response_format": fmt or "mp3",
                           "speed": 1.0}
    [output] = result.outputs
    assert output.content_type == content_type and output.kind == "audio"
    if fmt == "pcm":
        assert output.path.read_bytes() == wav_bytes(rate=24000)[44:]
    else:
        assert_decodes(output, job_ctx.workdir)


def test_openai_speech_forwards_speed(openai_fake: FakeOpenAI, job_ctx: FakeJobContext, client: httpx.Client) -> None:
    provider = openai_provider(openai_fake, client)
    request = job("audio", "tts-1", prompt=None, voice_text="Quickly now.", voice_id="narrator", speed=2.5)
    assert provider.poll(provider.submit(request), job_ctx).state == "completed"
    assert openai_fake.requests[0].json()["speed"] == 2.5


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
