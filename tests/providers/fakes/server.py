"""The fakes' common parts: sample media bytes, a job context, and a threaded loopback HTTP server
that records requests and answers through ``route``."""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
import wave
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import av
import numpy as np
from PIL import Image

from workers.providers.base import JobAborted

# --- media ----------------------------------------------------------------------------------


@lru_cache
def png_bytes(width: int = 64, height: int = 48) -> bytes:
    x = np.linspace(0, 255, width, dtype=np.uint8)
    y = np.linspace(0, 255, height, dtype=np.uint8)
    rgb = np.stack(
        [np.tile(x, (height, 1)), np.tile(y[:, None], (1, width)), np.full((height, width), 128, np.uint8)], -1
    )
    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, "PNG")
    return buffer.getvalue()


def _tone(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


@lru_cache
def wav_bytes(seconds: float = 0.5, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((_tone(seconds, rate) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


@lru_cache
def mp3_bytes(seconds: float = 0.5, rate: int = 22050) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(_tone(seconds, rate).reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


@lru_cache
def mp4_bytes(frames: int = 10, size: int = 64, fps: int = 10) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            rgb = np.full((size, size, 3), (i * 20) % 256, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


# --- a tiny job context ---------------------------------------------------------------------


@dataclass
class FakeJobContext:
    """Enough of ``JobContext`` for adapter tests: a workdir, recorded progress, cancellation."""

    workdir: Path
    cancelled: bool = False
    reports: list[float] = field(default_factory=list)

    def progress(self, percent: float) -> None:
        self.check_cancelled()
        self.reports.append(percent)

    def check_cancelled(self) -> None:
        if self.cancelled:
            raise JobAborted("job cancelled")


# --- the server -------------------------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: Any, **headers: str) -> Reply:
    return Reply(status, json.dumps(payload).encode(), headers=dict(headers))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; don't stall on ACKs
    server: _Server

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        record = Recorded(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        reply = self.server.fake.handle(record)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a deliberately slow reply must not hold up stop()
    fake: FakeServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is expected here


class FakeServer:
    """Shared machinery: lifecycle, request log, file serving, auth, failure knobs."""

    prefix = ""
    auth_scheme = "Bearer"

    def __init__(self, key: str) -> None:
        self.key = key
        self.requests: list[Recorded] = []
        #: The next submits fail with this status and the provider's documented error body.
        self.submit_error: int | None = None
        #: Seconds a submit waits before answering (to provoke client timeouts).
        self.submit_delay = 0.0
        #: Put the presented credential into 401 bodies, to test that adapters scrub it.
        self.echo_key_in_errors = False
        self._files: dict[str, tuple[bytes, str]] = {}
        self._redirects: dict[str, str] = {}
        self._lock = threading.RLock()  # route() may serve files while holding it
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FakeServer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # stop() waits at most this long
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.root_url + self.prefix

    # bookkeeping
    def count(self, method: str | None = None, path_contains: str = "") -> int:
        with self._lock:
            return sum(1 for r in self.requests if (method is None or r.method == method) and path_contains in r.path)

    def serve_file(self, name: str, data: bytes, content_type: str) -> str:
        with self._lock:
            self._files[name] = (data, content_type)
        return f"{self.root_url}/files/{name}"

    def serve_redirect(self, name: str, location: str) -> str:
        """A file URL that answers 302 to ``location`` (CDNs do; the target may be hostile)."""
        with self._lock:
            self._redirects[name] = location
        return f"{self.root_url}/files/{name}"

    def handle(self, record: Recorded) -> Reply:
        with self._lock:
            self.requests.append(record)
        if record.path.startswith("/files/"):  # a CDN: no credentials needed
            name = record.path.removeprefix("/files/")
            if name in self._redirects:
                return Reply(302, b"", "text/plain", {"Location": self._redirects[name]})
            found = self._files.get(name)
            return Reply(200, found[0], found[1]) if found else Reply(404, b"not found", "text/plain")
        if record.headers.get("authorization") != f"{self.auth_scheme} {self.key}":
            presented = record.headers.get("authorization", "").partition(" ")[2]
            return self.unauthorized(presented if self.echo_key_in_errors else "")
        with self._lock:
            return self.route(record)

    def delay_submit(self) -> None:
        if self.submit_delay:
            self._lock.release()  # let other requests through while this one dawdles
            try:
                time.sleep(self.submit_delay)
            finally:
                self._lock.acquire()

    # provider specifics
    def unauthorized(self, presented: str) -> Reply:
        raise NotImplementedError

    def route(self, record: Recorded) -> Reply:
        raise NotImplementedError


def _new_id() -> str:
    return uuid.uuid4().hex
