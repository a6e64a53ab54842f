"""Fixtures: real receivers on 127.0.0.1 (see ``support``), shut down after each test."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from tests.webhooks.support import Receiver, ReceiverServer, RequestHandler, Responder


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    receivers: list[Receiver] = []

    def make(respond: Responder | None = None) -> Receiver:
        server = ReceiverServer(("127.0.0.1", 0), RequestHandler)
        server.receiver = receiver = Receiver(server)
        if respond is not None:
            receiver.respond = respond
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        receivers.append(receiver)
        return receiver

    yield make
    for receiver in receivers:
        receiver.released.set()
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.fixture
def receiver(make_receiver: Callable[..., Receiver]) -> Receiver:
    return make_receiver()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
