"""Inputs by URL: an http(s) URL or a ``data:`` URI turned into an asset of the caller.

http(s) URLs are fetched through ``shared.net``'s guarded client (the address policy checked
where each connection is made, redirects followed hop by hop, the body cut off at the kind's
upload limit, a total deadline); ``data:`` URIs are decoded chunk by chunk under the same
limit. The bytes are sniffed and probed into a temporary file before any database work
(``fetched``: a slow server holds no pooled connection), then stored exactly like an upload,
with ``"source": "url"``, in the job's transaction (``store``). Anything wrong is a
``400 VALIDATION_ERROR`` naming the request field; messages never carry a server path or a resolved address.
"""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import httpx
from sqlalchemy.orm import Session

from shared import assets
from shared.errors import AtelierError, ValidationError
from shared.jobs.requests import JobRequestBase
from shared.net import BadURL, BodyTooLarge, ForbiddenAddress, TooManyRedirects, guarded_client, open_stream, save_body
from shared.net.datauri import BadDataURI, write_to
from shared.net.policy import Resolver
from shared.settings import Settings
from shared.storage.base import Storage

#: Per network operation; the whole fetch is bounded by ``settings.input_url_timeout_seconds``.
OPERATION_TIMEOUT = 10.0


@dataclass(frozen=True)
class Fetched:
    """An input fetched (or decoded) into a temporary file and checked, not yet stored."""

    field: str  #: the request field that gave the URL
    kind: str
    path: Path
    size: int
    filename: str | None
    checked: assets.Checked


def fetch(settings: Settings, *, kind: str, url: str, field: str, path: Path,
          resolver: Resolver = socket.getaddrinfo) -> Fetched:
    """Fetch or decode ``url`` into ``path`` under the kind's size limit, then sniff and probe it.
    No database: a slow server holds no connection."""
    if not url.strip():
        raise ValidationError.field(field, "must be an http(s) URL or a data: URI")
    limit = assets.max_bytes(settings, kind)
    try:
        if url[:5].lower() == "data:":
            _, size = write_to(url, path, max_bytes=limit)
            filename = None
        else:
            size = _download(url, path, settings, limit, resolver)
            filename = PurePosixPath(urlsplit(url).path).name or None
        if size == 0:
            raise ValidationError("is empty")
        return Fetched(field, kind, path, size, filename, assets.check_file(settings, kind=kind, path=path))
    except AtelierError as exc:
        raise _for_field(exc, field, kind) from None


@contextmanager
def fetched(settings: Settings, request: JobRequestBase,
            resolver: Resolver = socket.getaddrinfo) -> Iterator[dict[str, Fetched]]:
    """Every input of ``request`` given by URL, fetched and checked, by the asset field it fills;
    the temporary files are removed on exit."""
    with tempfile.TemporaryDirectory(prefix="atelier-url-") as tmp:
        found: dict[str, Fetched] = {}
        for name, spec in request.asset_fields.items():
            url = getattr(request, spec.url, None) if spec.url else None
            if spec.url and url is not None:
                found[name] = fetch(settings, kind=spec.kind, url=url, field=spec.url, path=Path(tmp) / name,
                                    resolver=resolver)
        yield found


def given(request: JobRequestBase) -> bool:
    """Whether ``request`` gives any input by URL."""
    return any(spec.url and getattr(request, spec.url, None) is not None for spec in request.asset_fields.values())


def store(session: Session, storage: Storage, settings: Settings, account_id: str, request: JobRequestBase,
          inputs: Mapping[str, Fetched]) -> JobRequestBase:
    """The request with the fetched inputs stored as assets of ``account_id`` and named by their ids.

    Runs in the job's transaction: if the job is then refused (402, a bad model), the new
    assets go with it and their stored objects are deleted after the rollback.
    """
    updates: dict[str, str | None] = {}
    for name, item in inputs.items():
        asset = assets.store_file(session, storage, settings, account_id=account_id, kind=item.kind,
                                  path=item.path, size=item.size, filename=item.filename, source="url",
                                  checked=item.checked)
        updates.update({name: asset.id, item.field: None})
    return request.model_copy(update=updates) if updates else request


def _download(url: str, path: Path, settings: Settings, limit: int, resolver: Resolver) -> int:
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise BadURL("must be an http(s) URL or a data: URI")
    failure: ValidationError | None = None
    with guarded_client(allow_private=settings.webhook_allow_private, timeout=OPERATION_TIMEOUT,
                        total_timeout=settings.input_url_timeout_seconds, resolver=resolver) as client:
        try:
            with open_stream(client, url) as response:
                if not response.is_success:
                    raise ValidationError(f"could not be fetched: the server answered HTTP {response.status_code}")
                return save_body(response, path, max_bytes=limit)
        except httpx.TimeoutException:
            failure = ValidationError("could not be fetched: timed out")
        except httpx.HTTPError:
            # The exception text can name the resolved address: keep it out of the answer.
            failure = ValidationError("could not be fetched: the host could not be reached")
    raise failure


def _for_field(exc: AtelierError, field: str, kind: str) -> ValidationError:
    """Any failure of an input URL as a 400 on its field, in our own words."""
    if isinstance(exc, BodyTooLarge):
        message = f"the file {exc.message} for {kind} inputs"
    elif isinstance(exc, ForbiddenAddress):
        message = ("host is not allowed: it is a loopback, private, link-local, metadata or "
                   "otherwise non-public address")
    elif isinstance(exc, BadURL | BadDataURI | TooManyRedirects):
        message = exc.message
    elif exc.status == 415:  # what an upload of these bytes would have answered
        detected = exc.details.get("detected")
        message = f"is not a supported {kind}" + (f" (detected: {detected})" if detected else "")
    elif exc.status == 413:
        message = exc.message.rstrip(".")
    elif isinstance(exc, ValidationError) and not exc.details.get("errors"):
        message = exc.message
    else:
        message = f"is not a usable {kind}"
    error = ValidationError.field(field, message)
    error.details["errors"][0].update({k: v for k, v in exc.details.items() if k in ("max_bytes", "max_pixels")})
    return error
