"""Real webhook receivers on 127.0.0.1 and stand-in resolvers for the webhook tests."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Responder = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


def answer(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Responder:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return respond


@dataclass
class Receiver:
    server: ReceiverServer
    respond: Responder = field(default_factory=lambda: answer(200, b"ok"))
    requests: list[ReceivedRequest] = field(default_factory=list)
    # Set at teardown so handlers that stall on purpose finish promptly.
    released: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client hanging up early, as several tests make it do
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ReceiverServer

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        receiver = self.server.receiver
        receiver.requests.append(ReceivedRequest(self.path, dict(self.headers.items()), body))
        receiver.respond(self)

    def log_message(self, format: str, *args: object) -> None:
        pass


def fixed_resolver(*answers: str, calls: list[str] | None = None) -> Callable[..., list[tuple]]:
    """A ``getaddrinfo`` stand-in answering ``answers`` for any name (no real DNS)."""

    def resolve(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        if calls is not None:
            calls.append(host)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in answers]

    return resolve


def no_dns(host: str, *args: object, **kwargs: object) -> list[tuple]:
    raise AssertionError(f"unexpected DNS lookup of {host!r}")
