"""Helpers for the adapter tests: requests, inputs, polling to the end, and checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import httpx
from PIL import Image

from tests.providers.fakes import FakeFal, FakeJobContext, FakeOpenAI, FakeReplicate, png_bytes
from workers.providers.base import (
    GenerationRequest,
    InputFile,
    Output,
    PollResult,
    UpstreamHandle,
)
from workers.providers.fal import FalProvider
from workers.providers.openai import OpenAIProvider
from workers.providers.replicate import ReplicateProvider


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
