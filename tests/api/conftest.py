"""Fixtures of the OpenAI-compatible endpoint tests: the official SDK against the live server."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.support import set_sync_wait


@pytest.fixture(scope="module")
def patient_sync_wait(stack_env) -> Iterator[None]:
    """Synchronous calls outwait jobs other tests left queued on the suite's one worker."""
    set_sync_wait("600")
    yield
    set_sync_wait(None)


@pytest.fixture
def sdk(live_server, caller) -> Iterator[openai.OpenAI]:
    """The SDK as the module's ``caller`` (each module defines whose key it uses)."""
    with openai.OpenAI(base_url=f"{live_server}/v1", api_key=caller.key, max_retries=0, timeout=600) as c:
        yield c
