"""A loopback fake of an OpenAI-compatible server (``/chat/completions``, ``/embeddings``).

It speaks OpenAI's documented wire format: JSON answers, and for ``stream: true`` Server-Sent
Events over chunked HTTP/1.1 (``data: {chunk}`` … ``data: [DONE]``), including the final usage
chunk when ``stream_options.include_usage`` is set. What it does is chosen by the last user
message, so concurrent tests need no shared switches:

- ``use tools``: one tool call per function in ``tools`` (streamed as id + argument fragments);
- ``fail 400`` / ``fail 429`` / ``fail 500``: that error status, in OpenAI's error shape;
- ``slow``: 0.2 s between streamed chunks; ``endless``: a chunk every 50 ms for up to 20 s,
  noting in ``disconnects`` when the reader goes away before the end;
- ``break``: the stream stops mid-way without ``[DONE]`` (connection closed);
- ``gated``: two events, then nothing until the test sets ``gate`` (given up after 10 s:
  the connection is closed without ``[DONE]``), so a reader sees the first events only if
  they were relayed without waiting for the rest;
- anything else: the answer ``echo: <message>``, streamed word by word.

Every request is recorded (``requests``) after its key is checked (wrong key: 401), and every
accepted connection counted (``connections``).

    with FakeOpenAI() as fake:
        fake.base_url, fake.key
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CREATED = 1764460800


def vector(text: str, dims: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [round((digest[i % 32] - 128) / 128, 6) for i in range(dims)]


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if p.get("type") == "text")
            return str(content)
    return ""


def _tool_calls(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"id": f"call_{i}", "type": "function",
             "function": {"name": tool["function"]["name"], "arguments": json.dumps({"city": "Paris", "n": i})}}
            for i, tool in enumerate(body.get("tools") or [])]


def _chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": CREATED, "model": body["model"],
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}


def _stream_chunks(body: dict[str, Any], text: str) -> list[dict[str, Any]]:
    chunks = [_chunk(body, {"role": "assistant", "content": ""})]
    if "use tools" in text and body.get("tools"):
        for i, call in enumerate(_tool_calls(body)):
            args = call["function"]["arguments"]
            chunks.append(_chunk(body, {"tool_calls": [{"index": i, "id": call["id"], "type": "function",
                                                        "function": {"name": call["function"]["name"],
                                                                     "arguments": ""}}]}))
            for part in (args[: len(args) // 2], args[len(args) // 2:]):
                chunks.append(_chunk(body, {"tool_calls": [{"index": i, "function": {"arguments": part}}]}))
        chunks.append(_chunk(body, {}, "tool_calls"))
    else:
        words = ("echo: " + text).split(" ")
        count = 400 if "endless" in text else len(words)
        chunks += [_chunk(body, {"content": (" " if i else "") + words[i % len(words)]}) for i in range(count)]
        chunks.append(_chunk(body, {}, "stop"))
    return chunks


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content") or "").split()) for m in body.get("messages") or [])
    completion = len(text.split()) + 1
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # As real servers do: each event goes out when written, not after the reader's delayed ACK.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.fake.note_connection()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "7")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, param: str | None = None) -> None:
        kind = {401: "authentication_error", 429: "rate_limit_error"}.get(status, "invalid_request_error")
        self._json(status, {"error": {"message": message, "type": kind, "param": param, "code": None}})

    def do_POST(self) -> None:
        fake = self.server.fake
        if self.headers.get("Authorization") != f"Bearer {fake.key}":
            self._error(401, "Incorrect API key provided.")
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        fake.record(self.path, body)
        if self.path.endswith("/embeddings"):
            self._embeddings(body)
        elif self.path.endswith("/chat/completions"):
            self._chat(body)
        else:
            self._error(404, f"Unknown path {self.path}")

    def _embeddings(self, body: dict[str, Any]) -> None:
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        dims = body.get("dimensions", 8)
        data = []
        for i, item in enumerate(inputs):
            values = vector(json.dumps(item), dims)
            encoded: Any = values
            if body.get("encoding_format") == "base64":
                encoded = base64.b64encode(struct.pack(f"<{dims}f", *values)).decode()
            data.append({"object": "embedding", "index": i, "embedding": encoded})
        tokens = sum(len(json.dumps(item).split()) for item in inputs)
        self._json(200, {"object": "list", "data": data, "model": body["model"],
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def _chat(self, body: dict[str, Any]) -> None:
        text = _last_user_text(body)
        for status in (400, 429, 500):
            if f"fail {status}" in text:
                self._error(status, f"Upstream says {status}.", "messages" if status == 400 else None)
                return
        if body.get("stream"):
            self._stream(body, text)
            return
        calls = _tool_calls(body) if "use tools" in text else []
        message: dict[str, Any] = {"role": "assistant", "content": None if calls else f"echo: {text}",
                                   "refusal": None}
        if calls:
            message["tool_calls"] = calls
        self._json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": CREATED,
                         "model": body["model"], "system_fingerprint": None,
                         "choices": [{"index": 0, "message": message, "logprobs": None,
                                      "finish_reason": "tool_calls" if calls else "stop"}],
                         "usage": _usage(body, text)})

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _stream(self, body: dict[str, Any], text: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        delay = 0.2 if "slow" in text else 0.05 if "endless" in text else 0.0
        events = [json.dumps(c) for c in _stream_chunks(body, text)]
        if "break" in text:
            events = events[:2]
        elif (body.get("stream_options") or {}).get("include_usage"):
            events.append(json.dumps({**_chunk(body, {}), "choices": [], "usage": _usage(body, text)}))
        if "break" not in text:
            events.append("[DONE]")
        sent = 0
        try:
            for sent, event in enumerate(events, 1):
                self._send_chunk(f"data: {event}\n\n".encode())
                if delay:
                    time.sleep(delay)
                if sent == 2 and "gated" in text and not self.server.fake.gate.wait(10):
                    self.close_connection = True
                    return
            if "break" in text:
                self.close_connection = True
                return
            self._send_chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            self.server.fake.note_disconnect(sent, len(events))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenAI


class FakeOpenAI:
    key = "sk-fake-upstream"

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._lock = threading.Lock()
        self.requests: list[tuple[str, dict[str, Any]]] = []
        #: (events sent, events planned) for each stream whose reader went away early.
        self.disconnects: list[tuple[int, int]] = []
        self.disconnected = threading.Event()
        self.gate = threading.Event()
        #: Connections accepted so far (a client that keeps its connections alive opens few).
        self.connections = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def record(self, path: str, body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append((path, body))

    def note_connection(self) -> None:
        with self._lock:
            self.connections += 1

    def note_disconnect(self, sent: int, planned: int) -> None:
        with self._lock:
            self.disconnects.append((sent, planned))
        self.disconnected.set()

    def bodies(self, marker: str) -> list[dict[str, Any]]:
        """The recorded chat bodies whose last user message contains ``marker``."""
        with self._lock:
            return [b for _, b in self.requests if marker in _last_user_text(b)]

    def __enter__(self) -> FakeOpenAI:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
