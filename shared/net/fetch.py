"""Streaming a guarded GET to a file: redirects followed hop by hop, bodies cut at a limit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from shared.errors import ValidationError
from shared.net.policy import BadURL, parse_url

MAX_REDIRECTS = 5
CHUNK = 64 * 1024


class BodyTooLarge(ValidationError):
    """A response body over the caller's limit; nothing of it is kept."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        size = f"is {declared} bytes, " if declared is not None else "is "
        super().__init__(f"{size}over the {limit} byte limit", details={"max_bytes": limit})
        self.limit = limit


class TooManyRedirects(ValidationError):
    pass


@contextmanager
def open_stream(client: httpx.Client, url: str, *, follow_redirects: bool = True,
                max_redirects: int = MAX_REDIRECTS) -> Iterator[httpx.Response]:
    """GET ``url`` and yield the final response, unread (it may be any status).

    ``client`` should be a ``guarded_client``: every hop connects only where the policy
    allows. Each hop's URL is checked for its shape too (http(s), no credentials).
    """
    current = url
    for _ in range(max_redirects + 1):
        parse_url(current)
        with client.stream("GET", current) as response:
            if not (follow_redirects and response.is_redirect and "location" in response.headers):
                yield response
                return
            try:
                current = str(response.url.join(response.headers["location"]))
            except httpx.InvalidURL:
                raise BadURL("redirects to an invalid URL") from None
    raise TooManyRedirects(f"more than {max_redirects} redirects")


def save_body(response: httpx.Response, dest: Path, *, max_bytes: int) -> int:
    """Copy a streamed body to ``dest`` in chunks; over ``max_bytes`` it is cut off, deleted
    and ``BodyTooLarge`` raised (a declared Content-Length over the limit is refused unread)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(max_bytes, int(declared))
    size = 0
    try:
        with dest.open("wb") as f:
            for chunk in response.iter_bytes(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise BodyTooLarge(max_bytes)
                f.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return size
