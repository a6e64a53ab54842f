"""Issue 9 "Input" defect 1: limits hold before any body is read, and uploads stream.

The socket tests talk raw HTTP/1.1 to a real uvicorn, so they can declare a large body,
send only its start, and see the answer arrive while most of it was never sent.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from shared.settings import get_settings
from tests.media_samples import png_bytes

BOUNDARY = "atelierboundary"


def _multipart_head(kind: str | None, filename: str = "big.png") -> bytes:
    parts = b""
    if kind is not None:
        parts += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n").encode()
    parts += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
              "Content-Type: application/octet-stream\r\n\r\n").encode()
    return parts


def _send_partial(live_server: str, path: str, headers: dict[str, str], declared: int,
                  chunks: Iterator[bytes]) -> tuple[int, int, bytes]:
    """Send headers declaring ``declared`` bytes, then chunks until the server answers.
    Returns (status, bytes of body sent, response head+body read)."""
    url = urlsplit(live_server)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: {url.hostname}\r\nContent-Length: {declared}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "Connection: close\r\n\r\n"
        sock.sendall(head.encode())
        sent = 0
        sock.settimeout(0.05)
        for chunk in chunks:
            try:
                answer = sock.recv(65536)
                if answer:
                    return int(answer.split()[1]), sent, _read_rest(sock, answer)
            except TimeoutError:
                pass
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        sock.settimeout(10)
        answer = sock.recv(65536)
        return int(answer.split()[1]), sent, _read_rest(sock, answer)
    finally:
        sock.close()


def _read_rest(sock: socket.socket, first: bytes) -> bytes:
    sock.settimeout(2)
    data = first
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def _body_json(raw: bytes) -> dict:
    return json.loads(raw.split(b"\r\n\r\n", 1)[1])


def _zeros(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b"\0" * size


def test_json_body_over_the_limit_is_413_from_content_length_before_auth(client):
    limit = get_settings().max_json_body_bytes
    response = client.post("/v1/jobs", content=b"x" * (limit + 1), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "PAYLOAD_TOO_LARGE" and error["details"]["max_bytes"] == limit


def test_chunked_json_body_is_cut_off_at_the_limit(client, make_account):
    caller = make_account()
    limit = get_settings().max_json_body_bytes

    def body() -> Iterator[bytes]:
        yield b'{"mode": "text_to_image", "prompt": "'
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536
        yield b'"}'

    response = client.post("/v1/jobs", content=body(), headers={**caller.headers, "Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_multipart_without_credentials_is_401_before_the_body_is_read(live_server):
    declared = 150 * 1024 * 1024
    status, sent, raw = _send_partial(
        live_server, "/v1/assets", {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}, declared,
        iter([_multipart_head("image"), *_zeros(8 * 1024 * 1024)]))
    assert status == 401
    assert _body_json(raw)["error"]["code"] == "UNAUTHENTICATED"
    assert sent < 8 * 1024 * 1024  # the answer came while nearly all of the body was unsent


def test_upload_is_cut_off_as_soon_as_it_passes_its_kinds_limit(live_server, make_account, monkeypatch):
    caller = make_account()
    monkeypatch.setattr(get_settings(), "max_image_bytes", 1024 * 1024)
    declared = 100 * 1024 * 1024
    status, sent, raw = _send_partial(
        live_server, "/v1/assets", {**caller.headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        declared, iter([_multipart_head("image"), *_zeros(declared - 4096)]))
    assert status == 413
    error = _body_json(raw)["error"]
    assert error["code"] == "PAYLOAD_TOO_LARGE" and error["details"]["max_bytes"] == 1024 * 1024
    assert sent < 16 * 1024 * 1024  # refused while streaming, not after 100 MB


def test_file_before_kind_is_still_held_to_its_kinds_limit(client, make_account, monkeypatch):
    caller = make_account()
    monkeypatch.setattr(get_settings(), "max_image_bytes", 1000)
    kind_part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nimage\r\n'
    body = (_multipart_head(None, "a.png") + png_bytes(16, 16) + b"\0" * 2000 + b"\r\n"
            + kind_part.encode() + f"--{BOUNDARY}--\r\n".encode())
    response = client.post("/v1/assets", content=body,
                           headers={**caller.headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert response.status_code == 413 and response.json()["error"]["details"]["max_bytes"] == 1000


def _form(*parts: tuple[str, bytes, str | None]) -> bytes:
    body = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


@pytest.mark.parametrize("parts, field", [
    ([("kind", b"image", None), ("file", b"1", "a.png"), ("file", b"2", "b.png")], "file"),  # two files
    ([("kind", b"image", None), ("file", b"1", "a.png"), ("purpose", b"x", None)], "purpose"),
    ([("file", b"1", "a.png")], "kind"),
    ([("kind", b"image", None)], "file"),
    ([("kind", b"document", None), ("file", b"1", "a.png")], "kind"),
])
def test_malformed_upload_forms_are_400_naming_the_field(client, make_account, parts, field):
    caller = make_account()
    response = client.post("/v1/assets", content=_form(*parts), headers={
        **caller.headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in [e["field"] for e in error["details"]["errors"]]


def test_malformed_multipart_is_400(client, make_account):
    caller = make_account()
    body = f"--{BOUNDARY}\r\nContent[Disposition: x\r\n\r\nimage\r\n--{BOUNDARY}--\r\n".encode()
    response = client.post("/v1/assets", content=body, headers={
        **caller.headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_upload_that_is_not_multipart_is_400(client, make_account):
    caller = make_account()
    response = client.post("/v1/assets", json={"kind": "image"}, headers=caller.headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_truncated_png_is_refused_at_upload_without_server_paths(client, make_account):
    caller = make_account()
    data = png_bytes(300, 300)
    response = client.post("/v1/assets", data={"kind": "image"}, files={"file": ("t.png", data[: len(data) // 2])},
                           headers=caller.headers)
    assert response.status_code == 415, response.text
    message = response.json()["error"]["message"]
    assert "/" not in message.replace("image/", "") and "tmp" not in message


def test_undecodable_audio_message_names_no_server_path(client, make_account):
    caller = make_account()
    junk = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00garbage" * 500
    response = client.post("/v1/assets", data={"kind": "audio"}, files={"file": ("x.mp3", junk)},
                           headers=caller.headers)
    assert response.status_code == 415, response.text
    text = response.text
    assert "atelier-upload" not in text and "/tmp" not in text
