"""What every adapter shares: credentials never leak, connection errors, guarded downloads,
and the HTTP helpers."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.media.sniff import sniff_content_type
from shared.net import guarded_client
from tests.providers.adapters.support import (
    assert_clean,
    fal_provider,
    job,
    run,
)
from tests.providers.fakes import FakeFal, FakeJobContext, FakeOpenAI, FakeReplicate, png_bytes
from workers.providers.base import (
    GenerationFailed,
    GenerationRequest,
    ProviderError,
    UpstreamRejected,
    UpstreamUnavailable,
)
from workers.providers.fal import FalProvider
from workers.providers.http import (
    download_to,
    error_message,
    exact_aspect_ratio,
    percent_from_logs,
    scrub,
    write_data_uri,
)
from workers.providers.openai import OpenAIProvider
from workers.providers.replicate import ReplicateProvider

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
    assert exact_aspect_ratio(1024, 1024) == exact_aspect_ratio(512, 512) == "1:1"
    assert exact_aspect_ratio(1792, 1024) == "7:4" and exact_aspect_ratio(1024, 1792) == "4:7"
    assert exact_aspect_ratio(1344, 768) == "7:4" and exact_aspect_ratio(1920, 1080) == "16:9"
