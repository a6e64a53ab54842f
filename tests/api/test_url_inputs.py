"""Inputs by URL on ``POST /v1/jobs``: fetched through the guarded client from a real loopback
server (or decoded from a data: URI), sniffed and probed like uploads, stored as the caller's
assets with ``"source": "url"``; anything wrong is a 400 naming the field."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from shared.db.models import Asset
from shared.db.session import session_scope
from shared.settings import get_settings
from tests.media_samples import png_bytes, wav_bytes
from tests.support import wait_for_job


@dataclass
class FileServer:
    """path → (status, body, content type, send Content-Length?)"""

    port: int = 0
    files: dict[str, tuple[int, bytes, str, bool]] = field(default_factory=dict)

    def serve(self, path: str, body: bytes, content_type: str = "application/octet-stream", *,
              status: int = 200, length: bool = True) -> str:
        self.files[path] = (status, body, content_type, length)
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def files() -> Iterator[FileServer]:
    server_state = FileServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            status, body, content_type, length = server_state.files.get(self.path, (404, b"no", "text/plain", True))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if length:
                self.send_header("Content-Length", str(len(body)))
            if status in (301, 302):
                self.send_header("Location", body.decode())
                body = b""
            self.end_headers()
            self.wfile.write(body)  # without Content-Length the body ends when the connection closes

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server_state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server_state
    server.shutdown()
    server.server_close()


def submit(client, caller, **body):
    return client.post("/v1/jobs", json=body, headers=caller.headers)


def refused(response, field_name: str) -> str:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    [problem] = error["details"]["errors"]
    assert problem["field"] == field_name
    assert "/tmp" not in error["message"] and "127.0.0.1" not in error["message"]
    return problem["message"]


def asset_count(account_id: str) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Asset).where(Asset.account_id == account_id))


def data_uri(content_type: str, data: bytes) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


def test_image_by_url_becomes_an_asset_of_the_caller(client, celery_worker, make_account, files):
    caller = make_account()
    picture = png_bytes(80, 60)
    response = submit(client, caller, mode="image_to_image", prompt="as ink", strength=0.4, seed=3,
                      input_image_url=files.serve("/photos/cat.png", picture, "image/png"))
    assert response.status_code == 202, response.text
    job = wait_for_job(client, caller, response.json()["id"])
    assert job["status"] == "completed", job
    asset_id = job["inputs"]["input_image_asset_id"]
    asset = client.get(f"/v1/assets/{asset_id}", headers=caller.headers).json()
    assert asset["source"] == "url" and asset["kind"] == "image" and asset["content_type"] == "image/png"
    assert (asset["width"], asset["height"], asset["bytes"]) == (80, 60, len(picture))
    assert asset["filename"] == "cat.png"
    assert "input_image_url" not in job["inputs"]


def test_data_uri_and_audio_url(client, celery_worker, make_account, files):
    caller = make_account()
    response = submit(client, caller, mode="image_to_video", input_image_url=data_uri("image/png", png_bytes()),
                      audio_url=files.serve("/voice", wav_bytes(1.0), "audio/wav", length=False))
    assert response.status_code == 202, response.text
    job = wait_for_job(client, caller, response.json()["id"])
    assert job["status"] == "completed", job
    sources = {client.get(f"/v1/assets/{job['inputs'][name]}", headers=caller.headers).json()["source"]
               for name in ("input_image_asset_id", "audio_asset_id")}
    assert sources == {"url"}


@pytest.mark.parametrize("length", [True, False])
def test_oversized_file_is_cut_off(client, make_account, files, monkeypatch, length):
    monkeypatch.setattr(get_settings(), "max_image_bytes", 1000)
    caller = make_account()
    url = files.serve("/big.png", png_bytes(400, 400, (1, 2, 3)) + b"\0" * 2000, "image/png", length=length)
    message = refused(submit(client, caller, mode="image_to_image", prompt="x", input_image_url=url),
                      "input_image_url")
    assert "1000 byte limit" in message
    assert asset_count(caller.account_id) == 0


def test_oversized_data_uri(client, make_account, monkeypatch):
    monkeypatch.setattr(get_settings(), "max_image_bytes", 1000)
    caller = make_account()
    uri = data_uri("image/png", png_bytes(400, 400, (1, 2, 3)) + b"\0" * 2000)
    assert "limit" in refused(submit(client, caller, mode="image_to_image", prompt="x", input_image_url=uri),
                              "input_image_url")


def test_private_address_refused_unless_the_operator_allows_it(client, make_account, files, monkeypatch):
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)
    caller = make_account()
    url = files.serve("/cat.png", png_bytes(), "image/png")
    message = refused(submit(client, caller, mode="image_to_image", prompt="x", input_image_url=url),
                      "input_image_url")
    assert "not allowed" in message
    assert asset_count(caller.account_id) == 0


@pytest.mark.parametrize(("url", "expected"), [
    ("file:///etc/passwd", "http(s) URL or a data: URI"),
    ("ftp://example.com/a.png", "http(s) URL or a data: URI"),
    ("http://user:pw@example.com/a.png", "credentials"),
    ("http://metadata.google.internal/x.png", "not allowed"),
    ("http://169.254.169.254/latest/meta-data/", "not allowed"),
    ("http://[fd00:ec2::254]/x", "not allowed"),
    ("data:image/png;base64,@@@", "base64"),
    ("data:image/png", "data: URI"),
])
def test_unusable_urls_are_400(client, make_account, url, expected):
    caller = make_account()
    assert expected in refused(submit(client, caller, mode="image_to_image", prompt="x", input_image_url=url),
                               "input_image_url")


def test_a_non_image_is_refused(client, make_account, files):
    caller = make_account()
    url = files.serve("/notes.png", b"just some text, not a picture\n" * 10, "image/png")
    message = refused(submit(client, caller, mode="image_to_image", prompt="x", input_image_url=url),
                      "input_image_url")
    assert "is not a supported image" in message
    wav = data_uri("audio/wav", wav_bytes(0.5))
    assert "is not a supported image" in refused(
        submit(client, caller, mode="image_to_image", prompt="x", input_image_url=wav), "input_image_url")
    assert asset_count(caller.account_id) == 0


def test_http_errors_and_redirect_loops(client, make_account, files):
    caller = make_account()
    missing = f"http://127.0.0.1:{files.port}/missing.png"
    assert "HTTP 404" in refused(submit(client, caller, mode="image_to_image", prompt="x", input_image_url=missing),
                                 "input_image_url")
    loop = files.serve("/loop", f"http://127.0.0.1:{files.port}/loop".encode(), status=302)
    assert "redirects" in refused(submit(client, caller, mode="image_to_image", prompt="x", input_image_url=loop),
                                  "input_image_url")


def test_a_redirect_to_a_metadata_address_is_refused(client, make_account, files):
    # Private addresses are allowed in this suite, so the loopback hop is fetched; the next
    # hop is checked where it connects, and metadata is never allowed.
    caller = make_account()
    for target in ("http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/",
                   "http://metadata.google.internal/computeMetadata/v1/"):
        hop = files.serve("/evil", target.encode(), status=302)
        message = refused(submit(client, caller, mode="image_to_image", prompt="x", input_image_url=hop),
                          "input_image_url")
        assert "not allowed" in message and "169.254" not in message
    assert asset_count(caller.account_id) == 0


def test_redirects_are_followed(client, make_account, files):
    caller = make_account()
    target = files.serve("/real.png", png_bytes(), "image/png")
    hop = files.serve("/hop", target.encode(), status=302)
    response = submit(client, caller, mode="image_to_image", prompt="x", input_image_url=hop)
    assert response.status_code == 202, response.text


def test_id_and_url_for_one_input_is_400(client, make_account, files):
    caller = make_account()
    response = submit(client, caller, mode="image_to_image", prompt="x", input_image_asset_id="ast_x",
                      input_image_url=files.serve("/a.png", png_bytes(), "image/png"))
    assert "not both" in refused(response, "input_image_asset_id")
    response = submit(client, caller, mode="image_to_image", prompt="x")
    assert "is required" in refused(response, "input_image_asset_id")
    response = submit(client, caller, mode="image_to_video", input_image_url=data_uri("image/png", png_bytes()),
                      voice_text="hello", audio_url="http://example.com/a.wav")
    assert "not both" in refused(response, "voice_text")  # neither: the picture moves without a voice


def test_a_refused_job_keeps_no_fetched_asset(client, make_account, files):
    caller = make_account(plan="free", credits=0)
    response = submit(client, caller, mode="image_to_image", prompt="x",
                      input_image_url=files.serve("/a.png", png_bytes(), "image/png"))
    assert response.status_code == 402, response.text
    assert asset_count(caller.account_id) == 0
