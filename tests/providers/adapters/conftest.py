"""An httpx client per adapter test, as the workers build it (and one that times out quickly)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from workers.providers.http import make_client


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client() as c:
        yield c


@pytest.fixture
def impatient_client() -> Iterator[httpx.Client]:
    with make_client(read=0.3) as c:
        yield c
