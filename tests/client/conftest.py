"""The client against the real stack: uvicorn (``live_server``) and a real Celery worker."""

from __future__ import annotations

import pytest


@pytest.fixture
def atelier(live_server, make_account):
    """An ``Atelier`` client with its own fresh starter account."""
    from atelier.client import Atelier

    caller = make_account()
    with Atelier(api_key=caller.key, base_url=live_server) as client:
        client.caller = caller  # type: ignore[attr-defined]
        yield client
