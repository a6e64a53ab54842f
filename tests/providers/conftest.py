"""Fixtures for provider tests: one started fake per upstream, and a job context."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.providers.fakes import FakeFal, FakeJobContext, FakeOpenAI, FakeReplicate


@pytest.fixture
def fal_fake() -> Iterator[FakeFal]:
    with FakeFal() as fake:
        yield fake


@pytest.fixture
def replicate_fake() -> Iterator[FakeReplicate]:
    with FakeReplicate() as fake:
        yield fake


@pytest.fixture
def openai_fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def job_ctx(tmp_path: Path) -> FakeJobContext:
    workdir = tmp_path / "work"
    workdir.mkdir()
    return FakeJobContext(workdir=workdir)


@pytest.fixture(scope="session")
def portrait(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simple face: skin oval, eyes, red lips, on a blue backdrop (640×800 JPEG)."""
    image = Image.new("RGB", (640, 800), (70, 110, 160))
    draw = ImageDraw.Draw(image)
    draw.ellipse((160, 160, 480, 600), fill=(225, 185, 155))
    draw.ellipse((240, 300, 290, 335), fill=(40, 40, 40))
    draw.ellipse((350, 300, 400, 335), fill=(40, 40, 40))
    draw.rounded_rectangle((270, 470, 370, 490), radius=8, fill=(170, 60, 60))
    path = tmp_path_factory.mktemp("inputs") / "portrait.jpg"
    image.save(path, quality=90)
    return path
