"""What the sync and async clients share: headers, retry policy, turning responses into data or errors."""

from __future__ import annotations

import email.utils
import mimetypes
import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from atelier.client.errors import AtelierError, error_for

VERSION = "0.1.0"
# Only these are retried: nothing was accepted (503) or the key's per-minute window is full (429).
# DAILY_LIMIT_REACHED is a 429 too but lasts until midnight, so it is raised at once.
RETRYABLE_CODES = frozenset({"RATE_LIMIT_EXCEEDED", "SERVICE_UNAVAILABLE"})
KINDS = ("image", "audio", "video")


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    backoff: float = 0.5  # first wait when the server gives no Retry-After; doubles each time
    max_wait: float = 60.0  # a Retry-After longer than this is not waited for: the error is raised

    def delay(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up."""
        if attempt >= self.max_retries:
            return None
        if response is not None:
            after = retry_after(response)
            if after is not None:
                return after if after <= self.max_wait else None
        return min(self.max_wait, self.backoff * (2 ** attempt)) * (0.75 + random.random() / 2)


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def should_retry(response: httpx.Response) -> bool:
    if response.status_code not in (429, 503):
        return False
    try:
        code = response.json()["error"]["code"]
    except Exception:  # a proxy's 503 page: still "nothing accepted"
        return True
    return code in RETRYABLE_CODES


def headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}", "User-Agent": f"atelier-client/{VERSION}",
            "Accept": "application/json"}


def idempotency_headers(key: str | None) -> dict[str, str]:
    """Every create carries an Idempotency-Key, so a retry after a lost answer never makes a second one."""
    return {"Idempotency-Key": key or f"atc_{uuid.uuid4().hex}"}


def decode(response: httpx.Response) -> Any:
    """The JSON body of a success, or the typed error."""
    if response.status_code >= 400:
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        raise error_for(response.status_code, body, dict(response.headers))
    if response.status_code == 204 or not response.content:
        return None
    return response.json()


def connection_error(exc: httpx.HTTPError) -> AtelierError:
    from atelier.client.errors import APIConnectionError

    return APIConnectionError(f"could not reach the Atelier API: {exc}", code="CONNECTION_ERROR")


def job_body(mode: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"mode": mode, **{k: v for k, v in params.items() if v is not None}}


def guess_kind(path: Path, kind: str | None) -> str:
    if kind:
        return kind
    mime = mimetypes.guess_type(path.name)[0] or ""
    major = mime.split("/", 1)[0]
    if major in KINDS:
        return major
    raise ValueError(f"cannot tell the kind of {path.name!r}: pass kind='image' | 'audio' | 'video'")


def upload_parts(source: str | Path | IO[bytes], kind: str | None) -> tuple[dict[str, str], Any, str | None]:
    """(form fields, file tuple, path to close) for ``POST /v1/assets``."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        return {"kind": guess_kind(path, kind)}, (path.name, path.open("rb")), str(path)
    name = Path(getattr(source, "name", "upload")).name
    return {"kind": guess_kind(Path(name), kind)}, (name, source), None


def list_params(limit: int | None, after: str | None, filters: dict[str, Any]) -> dict[str, Any]:
    params = {k: v for k, v in filters.items() if v is not None}
    if limit is not None:
        params["limit"] = limit
    if after:
        params["after"] = after
    return params


def asset_id(asset: Any) -> str:
    return asset if isinstance(asset, str) else str(asset.id)


def download_target(path: Path, asset_id: str, response: httpx.Response) -> Path:
    """``path`` itself, or inside a directory ``<asset id><extension of its content type>``."""
    if not path.is_dir():
        return path
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    extension = mimetypes.guess_extension(content_type) or ""
    return path / f"{asset_id}{extension}"
