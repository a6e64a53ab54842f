"""Fixtures for provider tests: one started fake per upstream, and a job context."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
