"""Inputs by URL are fetched holding no pooled database connection: a slow server cannot pin
one (``shared.jobs.submit``). A loopback server holds its answer until the test releases it;
meanwhile the API's pool has nothing checked out, then the job is created normally."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shared.db.session import get_engine
from tests.api.test_url_inputs import asset_count
from tests.media_samples import png_bytes

PICTURE = png_bytes(64, 48)


@dataclass
class StallingServer:
    """Serves ``PICTURE`` at any path, once ``release`` is set; ``arrived`` is set per request."""

    port: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    requests: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slow.png"


@pytest.fixture
def stalling() -> Iterator[StallingServer]:
    state = StallingServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            state.requests += 1
            state.arrived.set()
            state.release.wait(30)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PICTURE)))
            self.end_headers()
            self.wfile.write(PICTURE)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


def post_while_stalled(client, server: StallingServer, path: str, body: dict[str, Any],
                       headers: dict[str, str]) -> Any:
    """POST in a thread; once the server holds the fetch, no pooled connection is checked out."""
    answer: dict[str, Any] = {}
    poster = threading.Thread(target=lambda: answer.update(response=client.post(path, json=body, headers=headers)))
    poster.start()
    try:
        assert server.arrived.wait(30), "the input URL was never fetched"
        assert get_engine().pool.checkedout() == 0
    finally:
        server.release.set()
        poster.join(60)
    return answer["response"]


JOB = {"mode": "image_to_image", "prompt": "as ink", "strength": 0.4}


@pytest.mark.parametrize("key", [None, "slow-fetch-1"])
def test_a_slow_input_url_holds_no_connection(client, make_account, stalling, key):
    caller = make_account()
    headers = {**caller.headers, **({"Idempotency-Key": key} if key else {})}
    body = {**JOB, "input_image_url": stalling.url}
    response = post_while_stalled(client, stalling, "/v1/jobs", body, headers)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "queued" and job["inputs"]["input_image_asset_id"].startswith("ast_")
    assert asset_count(caller.account_id) == 1
    if key:  # a repeat replays before fetching anything, and stores nothing
        again = client.post("/v1/jobs", json=body, headers=headers)
        assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == job["id"]
        assert stalling.requests == 1 and asset_count(caller.account_id) == 1


def test_a_compatible_endpoint_fetches_holding_no_connection(client, make_account, stalling):
    caller = make_account()
    body = {"image": stalling.url, "prompt": "a pencil sketch", "strength": 0.9}
    response = post_while_stalled(client, stalling, "/v1/images/edits?async=true", body, caller.headers)
    assert response.status_code == 202, response.text
    assert response.json()["object"] == "job" and asset_count(caller.account_id) == 1


def test_a_refused_slow_fetch_leaves_no_asset_and_no_stored_object(client, make_account, stalling, stack_env):
    from pathlib import Path

    caller = make_account(plan="free", credits=0)
    response = post_while_stalled(client, stalling, "/v1/jobs", {**JOB, "input_image_url": stalling.url},
                                  caller.headers)
    assert response.status_code == 402, response.text
    assert asset_count(caller.account_id) == 0
    stored = Path(stack_env["ATELIER_STORAGE_DIR"]) / "accounts" / caller.account_id
    assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))
