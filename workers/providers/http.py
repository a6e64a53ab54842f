"""Shared httpx plumbing for the upstream adapters (fal, Replicate, OpenAI).

One place decides timeouts, how an HTTP failure becomes one of our provider errors, how
result files are streamed to disk and what kind of media they are.

Credentials only ever travel in request headers. Messages built here are scrubbed of them,
and provider errors are raised *outside* the ``except`` block so no httpx exception (whose
``request`` carries the Authorization header) stays chained to them.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import json
import logging
import re
import socket
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Any, ParamSpec
from urllib.parse import unquote_to_bytes, urljoin, urlsplit

import httpx

from shared.media.sniff import (
    EXTENSIONS,
    SNIFF_BYTES,
    MediaKind,
    content_type_from_name,
    kind_of,
    sniff_content_type,
)
from workers.providers.base import (
    GenerationFailed,
    GenerationRequest,
    InputFile,
    Output,
    PollResult,
    ProviderError,
    UpstreamRejected,
    UpstreamUnavailable,
)

log = logging.getLogger(__name__)

P = ParamSpec("P")

#: Builds the per-job URL an upstream should call when the job finishes, or None for none.
CallbackURL = Callable[[GenerationRequest], str | None]

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
#: The API's own largest upload limit (video); a result bigger than that is refused.
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
#: Inputs without a signed URL are sent as data URIs only up to this size.
MAX_INLINE_INPUT_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
MAX_MESSAGE_CHARS = 500
_CHUNK = 64 * 1024
_ERROR_BODY_LIMIT = 64 * 1024


class UpstreamThrottled(UpstreamUnavailable):
    """A retryable answer that said when to come back (``Retry-After``, in seconds)."""

    retry_after: float | None = None


def make_client(
    *,
    connect: float = CONNECT_TIMEOUT,
    read: float = READ_TIMEOUT,
    write: float = READ_TIMEOUT,
    pool: float = CONNECT_TIMEOUT,
) -> httpx.Client:
    """An httpx client with explicit timeouts for talking to one upstream.

    ``trust_env=False``: no proxy, netrc or CA settings from the environment get near our
    credentials. Redirects are off; ``download_to`` follows them itself, checking each hop.
    """
    return httpx.Client(
        timeout=httpx.Timeout(connect=connect, read=read, write=write, pool=pool),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "atelier-worker"},
    )


# --- errors -------------------------------------------------------------------------------

_BEARER = re.compile(r"(?i)\b(bearer)\s+[\w.~+/=-]{6,}")
_AUTH_HEADER = re.compile(r"(?i)(authorization\s*[:=]\s*)[^\s,;]+(\s+[^\s,;]+)?")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove credentials from text that may end up in a job error or a log line."""
    for secret in secrets:
        if secret and len(secret) >= 4:  # a tiny "secret" would shred the message instead
            text = text.replace(secret, "[redacted]")
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}[redacted]", text)
    return _BEARER.sub(lambda m: f"{m.group(1)} [redacted]", text)


def is_retryable_status(status: int) -> bool:
    return status in (408, 425, 429) or status >= 500


def error_message(body: Any) -> str | None:
    """The provider's own words from a JSON error body.

    Handles fal (``detail``: a string or a list of ``{loc, msg, type}``), Replicate (RFC 7807
    ``detail``/``title``) and OpenAI (``error: {message, type, code}``).
    """
    if isinstance(body, str):
        return body.strip() or None
    if isinstance(body, list):
        parts = [m for m in (error_message(item) for item in body) if m]
        return "; ".join(parts) or None
    if isinstance(body, dict):
        if isinstance(body.get("msg"), str):
            loc = [str(p) for p in body.get("loc") or [] if p != "body"]
            return f"{'.'.join(loc)}: {body['msg']}" if loc else body["msg"]
        for key in ("detail", "error", "message", "title"):
            found = error_message(body.get(key))
            if found:
                return found
    return None


def _peek_body(response: httpx.Response) -> bytes:
    try:
        return response.content[:_ERROR_BODY_LIMIT]
    except httpx.ResponseNotRead:  # a streamed response: read only what an error needs
        buffer = bytearray()
        for chunk in response.iter_bytes():
            buffer += chunk
            if len(buffer) >= _ERROR_BODY_LIMIT:
                break
        return bytes(buffer[:_ERROR_BODY_LIMIT])


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_for_response(response: httpx.Response, *, provider: str, secrets: Iterable[str] = ()) -> ProviderError:
    """Map a non-2xx answer: 408/425/429/5xx are retryable, other 4xx a refusal."""
    status = response.status_code
    raw = _peek_body(response)
    try:
        detail = error_message(json.loads(raw))
    except ValueError:
        detail = raw.decode("utf-8", "replace").strip()[:200] or None
    text = f"{provider}: {detail} (HTTP {status})" if detail else f"{provider}: HTTP {status}"
    text = scrub(text, secrets)[:MAX_MESSAGE_CHARS]
    if not is_retryable_status(status):
        return UpstreamRejected(text)
    retry_after = _retry_after(response)
    if retry_after is None:
        return UpstreamUnavailable(text)
    error = UpstreamThrottled(text)
    error.retry_after = retry_after
    return error


def error_for_exception(exc: httpx.HTTPError, *, provider: str, secrets: Iterable[str] = ()) -> ProviderError:
    """Map a transport failure: timeouts and connection errors are retryable."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamUnavailable(f"{provider}: request timed out ({kind})")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.TooManyRedirects):
        return ProviderError(f"{provider}: {kind}")  # our configuration, not a passing fault
    detail = scrub(str(exc), secrets)[:200]
    return UpstreamUnavailable(f"{provider}: connection failed ({kind}: {detail})")


# --- media types --------------------------------------------------------------------------
# What a file is, and which types are kept, is ``shared.media.sniff``'s (the API's uploads
# use the same tables); only the header spellings upstreams send are this module's.

#: Header spellings of the types in ``EXTENSIONS`` that upstreams use besides the standard one.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "audio/mp3": "audio/mpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-flac": "audio/flac",
    "audio/x-m4a": "audio/mp4",
}


def normalize_content_type(value: str | None) -> str | None:
    if not value:
        return None
    base = value.split(";", 1)[0].strip().lower()
    base = _ALIASES.get(base, base)
    return base if base in EXTENSIONS else None


def detect_content_type(path: Path, *, header: str | None = None, url: str | None = None) -> str | None:
    """Bytes first, then the response's Content-Type, then the URL's file extension."""
    with path.open("rb") as f:
        sniffed = sniff_content_type(f.read(SNIFF_BYTES))
    if sniffed:
        return sniffed
    declared = normalize_content_type(header)
    if declared:
        return declared
    if url and not url.startswith("data:"):
        return content_type_from_name(urlsplit(url).path)
    return None


@dataclass(frozen=True)
class SavedFile:
    """A result file on disk, with what we decided it is."""

    path: Path
    content_type: str
    kind: MediaKind
    size: int

    def as_output(self) -> Output:
        return Output(path=self.path, content_type=self.content_type, kind=self.kind)


def _finalize(part: Path, dest: Path, size: int, *, header: str | None, url: str | None) -> SavedFile:
    """Name the finished download after what it really is, or refuse it."""
    content_type = detect_content_type(part, header=header, url=url)
    kind = kind_of(content_type) if content_type in EXTENSIONS else None
    if content_type is None or kind is None:
        part.unlink(missing_ok=True)
        raise GenerationFailed(
            f"the upstream returned a file that is not a recognised image, audio or video ({dest.name})"
        )
    final = dest if dest.suffix else dest.with_name(f"{dest.name}.{EXTENSIONS[content_type]}")
    part.replace(final)
    return SavedFile(path=final, content_type=content_type, kind=kind, size=size)


def _part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


# --- inline data ----------------------------------------------------------------------------


def decode_data_uri(uri: str) -> tuple[str | None, bytes]:
    """``data:[<type>][;base64],<payload>`` → (content type or None, bytes)."""
    if not uri.startswith("data:") or "," not in uri:
        raise GenerationFailed("malformed data URI in the upstream's output")
    meta, payload = uri[5:].split(",", 1)
    params = meta.split(";")
    content_type = normalize_content_type(params[0]) if params[0] else None
    if "base64" in params[1:]:
        try:
            return content_type, base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise GenerationFailed("undecodable base64 in the upstream's output") from None
    return content_type, unquote_to_bytes(payload)


def _base64_chunks(data: str) -> Iterator[bytes]:
    if any(c in data for c in "\r\n \t"):
        data = "".join(data.split())
    step = 4 * 16384  # a multiple of 4 decodes independently
    for start in range(0, len(data), step):
        yield base64.b64decode(data[start : start + step], validate=True)


def write_base64(data: str, dest: Path, *, max_bytes: int = MAX_DOWNLOAD_BYTES) -> SavedFile:
    """Decode a base64 output (OpenAI's ``b64_json``) to a file, chunk by chunk."""
    part = _part_path(dest)
    size = 0
    try:
        with part.open("wb") as f:
            for chunk in _base64_chunks(data):
                size += len(chunk)
                if size > max_bytes:
                    raise GenerationFailed(f"the upstream's output exceeds {max_bytes} bytes")
                f.write(chunk)
    except (binascii.Error, ValueError):
        part.unlink(missing_ok=True)
        raise GenerationFailed("undecodable base64 in the upstream's output") from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return _finalize(part, dest, size, header=None, url=None)


def write_data_uri(uri: str, dest: Path, *, max_bytes: int = MAX_DOWNLOAD_BYTES) -> SavedFile:
    """Write a ``data:`` URI output to a file."""
    meta = uri[5 : uri.find(",")] if uri.startswith("data:") else ""
    if "base64" in meta.split(";")[1:]:
        return write_base64(uri.split(",", 1)[1], dest, max_bytes=max_bytes)
    content_type, payload = decode_data_uri(uri)
    if len(payload) > max_bytes:
        raise GenerationFailed(f"the upstream's output exceeds {max_bytes} bytes")
    part = _part_path(dest)
    part.write_bytes(payload)
    return _finalize(part, dest, len(payload), header=content_type, url=None)


def file_to_data_uri(path: Path, content_type: str, *, max_bytes: int = MAX_INLINE_INPUT_BYTES) -> str:
    size = path.stat().st_size
    if size > max_bytes:
        raise ProviderError(
            f"input file of {size} bytes is too large to send inline (max {max_bytes}); "
            "a storage backend with signed URLs is needed"
        )
    return f"data:{content_type};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def input_reference(file: InputFile, *, max_inline_bytes: int = MAX_INLINE_INPUT_BYTES) -> str:
    """What to put in a provider's ``*_url`` field: the signed URL, else a data URI."""
    if file.url:
        return file.url
    return file_to_data_uri(file.path, file.content_type, max_bytes=max_inline_bytes)


# --- downloads ------------------------------------------------------------------------------

_METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}
_SHARED_RANGE = ipaddress.ip_network("100.64.0.0/10")


def check_fetchable(url: str, *, allow_private: bool) -> None:
    """Refuse result URLs that point inside our network (an upstream must not make us fetch
    and store what only the worker can reach). Link-local and metadata are never allowed;
    loopback and private ranges only when ``allow_private`` (development, tests)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GenerationFailed("refusing to download an output that is not an http(s) URL")
    host = parts.hostname.lower().rstrip(".")
    if host in _METADATA_HOSTS:
        raise GenerationFailed("refusing to download an output from a metadata address")
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError):
        return  # the request itself will fail and be reported as a connection error
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address.is_link_local:
            raise GenerationFailed("refusing to download an output from a link-local address")
        internal = (
            address.is_private
            or address.is_loopback
            or address.is_reserved
            or address.is_multicast
            or address.is_unspecified
            or address in _SHARED_RANGE
        )
        if internal and not allow_private:
            raise GenerationFailed("refusing to download an output from a private address")


def stream_to_file(response: httpx.Response, dest: Path, *, max_bytes: int) -> int:
    """Copy a streamed response body to ``dest`` in chunks, refusing oversized bodies."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise GenerationFailed(f"the upstream's output is {declared} bytes, over the {max_bytes} limit")
    size = 0
    try:
        with dest.open("wb") as f:
            for chunk in response.iter_bytes(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise GenerationFailed(f"the upstream's output exceeds {max_bytes} bytes")
                f.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return size


def download_to(
    client: httpx.Client,
    url: str,
    dest_path: Path,
    *,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    follow_redirects: bool = True,
    allow_private: bool = False,
    check_url: bool = True,
    content_type_hint: str | None = None,
    provider: str = "upstream",
) -> SavedFile:
    """Stream a result file to ``dest_path`` (a suffix is added from the detected type).

    No credentials are sent: result files live on CDNs, not on the provider's API host.
    Redirects are followed here, hop by hop, so each target is checked like the first.
    """
    if url.startswith("data:"):
        return write_data_uri(url, dest_path, max_bytes=max_bytes)
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        if check_url:
            check_fetchable(current, allow_private=allow_private)
        failure: ProviderError | None = None
        try:
            with client.stream("GET", current) as response:
                if response.is_redirect and follow_redirects:
                    current = urljoin(current, response.headers["location"])
                    continue
                if not response.is_success:
                    failure = error_for_response(response, provider=provider)
                else:
                    part = _part_path(dest_path)
                    size = stream_to_file(response, part, max_bytes=max_bytes)
                    header = response.headers.get("content-type")
                    return _finalize(part, dest_path, size, header=content_type_hint or header, url=current)
        except httpx.HTTPError as exc:
            failure = error_for_exception(exc, provider=provider)
        assert failure is not None
        raise failure
    raise GenerationFailed(f"{provider}: too many redirects while downloading an output")


# --- one provider's session -----------------------------------------------------------------


class UpstreamHTTP:
    """An httpx client bound to one provider's credentials, error mapping and download rules."""

    def __init__(
        self,
        provider: str,
        client: httpx.Client,
        *,
        auth_headers: Mapping[str, str],
        secrets: Iterable[str],
        allow_private_urls: bool = False,
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
    ) -> None:
        self.provider = provider
        self.client = client
        self._auth = dict(auth_headers)
        self._secrets = tuple(secrets)
        self.allow_private_urls = allow_private_urls
        self.max_download_bytes = max_download_bytes

    @classmethod
    def with_credential(
        cls,
        provider: str,
        scheme: str,
        credential: str,
        client: httpx.Client | None = None,
        *,
        read_timeout: float = READ_TIMEOUT,
        allow_private_urls: bool = False,
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
    ) -> UpstreamHTTP:
        """A session sending ``Authorization: <scheme> <credential>``, whose messages never
        carry the credential; on a client of its own (``make_client``) unless given one."""
        return cls(
            provider,
            client or make_client(read=read_timeout),
            auth_headers={"Authorization": f"{scheme} {credential}"},
            secrets=[credential],
            allow_private_urls=allow_private_urls,
            max_download_bytes=max_download_bytes,
        )

    def __repr__(self) -> str:
        return f"UpstreamHTTP(provider={self.provider!r})"

    def error(self, response: httpx.Response) -> ProviderError:
        return error_for_response(response, provider=self.provider, secrets=self._secrets)

    def request(self, method: str, url: str, *, check: bool = True, **kwargs: Any) -> httpx.Response:
        """One authenticated request; raises our errors (unless ``check=False`` for 4xx/5xx)."""
        headers = {**self._auth, **kwargs.pop("headers", {})}
        failure: ProviderError | None = None
        try:
            response = self.client.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            failure = error_for_exception(exc, provider=self.provider, secrets=self._secrets)
        if failure is not None:
            raise failure
        if check and not response.is_success:
            raise self.error(response)
        return response

    def cancel(self, method: str, url: str, *, tolerated: Collection[int]) -> None:
        """Ask the upstream to stop a job, best effort: a failure is logged, never raised.

        ``tolerated`` are the error statuses meaning nothing is left to stop (finished, gone).
        """
        try:
            response = self.request(method, url, check=False)
        except ProviderError as error:
            log_cancel_failure(self.provider, error)
            return
        if not response.is_success and response.status_code not in tolerated:
            log_cancel_failure(self.provider, self.error(response))

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.request(method, url, **kwargs)
        try:
            return response.json()
        except ValueError:
            pass
        raise UpstreamUnavailable(f"{self.provider}: HTTP {response.status_code} answer is not JSON")

    def stream_to(self, method: str, url: str, dest: Path, **kwargs: Any) -> SavedFile:
        """An authenticated request whose body is the result file (OpenAI speech)."""
        headers = {**self._auth, **kwargs.pop("headers", {})}
        failure: ProviderError | None = None
        try:
            with self.client.stream(method, url, headers=headers, **kwargs) as response:
                if not response.is_success:
                    failure = self.error(response)
                else:
                    part = _part_path(dest)
                    size = stream_to_file(response, part, max_bytes=self.max_download_bytes)
                    header = response.headers.get("content-type")
                    return _finalize(part, dest, size, header=header, url=None)
        except httpx.HTTPError as exc:
            failure = error_for_exception(exc, provider=self.provider, secrets=self._secrets)
        assert failure is not None
        raise failure

    def download(
        self, url: str, dest: Path, *, content_type_hint: str | None = None, check_url: bool = True
    ) -> SavedFile:
        return download_to(
            self.client,
            url,
            dest,
            max_bytes=self.max_download_bytes,
            allow_private=self.allow_private_urls,
            check_url=check_url,
            content_type_hint=content_type_hint,
            provider=self.provider,
        )

    def same_origin(self, url: object, base: str) -> bool:
        """Whether a URL the provider handed back may receive our credentials."""
        if not isinstance(url, str):
            return False
        a, b = urlsplit(url), urlsplit(base)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)

    def own_url(self, url: object, base: str, fallback: str) -> str:
        """A URL from the provider's answer if it is on ``base``'s origin, else ``fallback``:
        only URLs on the provider's own host get our credentials."""
        return url if isinstance(url, str) and self.same_origin(url, base) else fallback


# --- small mapping helpers ------------------------------------------------------------------

_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s?%")
_STEPS = re.compile(r"\b(\d+)\s*/\s*(\d+)\s*\[")


def percent_from_logs(text: str) -> float | None:
    """The last progress figure in model logs (tqdm's ``45%|████`` or ``9/20 [``)."""
    for line in reversed(text.splitlines()):
        found = [float(v) for v in _PERCENT.findall(line) if float(v) <= 100]
        if found:
            return found[-1]
        steps = _STEPS.findall(line)
        if steps:
            done, total = (int(v) for v in steps[-1])
            if total:
                return min(100.0, 100.0 * done / total)
    return None


def parse_size(size: str) -> tuple[int, int]:
    width, _, height = size.lower().partition("x")
    return int(width), int(height)


def nearest_aspect_ratio(width: int, height: int, allowed: Iterable[str]) -> str:
    """The allowed ``w:h`` ratio closest to width/height (e.g. 1792x1024 → 16:9)."""
    divisor = gcd(width, height) or 1
    exact = f"{width // divisor}:{height // divisor}"
    choices = list(allowed)
    if exact in choices:
        return exact

    def value(ratio: str) -> float:
        w, h = ratio.split(":")
        return int(w) / int(h)

    return min(choices, key=lambda r: abs(value(r) - width / height))


def unsupported_mode(provider: str, mode: str) -> ProviderError:
    return ProviderError(f"the {provider} adapter does not support mode {mode!r}")


def poll_outcome(poll: Callable[P, PollResult]) -> Callable[P, PollResult]:
    """For an adapter's ``poll``: a retryable error propagates (the runner polls again
    later); any other provider error ends the job as a failed ``PollResult``."""

    @functools.wraps(poll)
    def settled(*args: P.args, **kwargs: P.kwargs) -> PollResult:
        try:
            return poll(*args, **kwargs)
        except ProviderError as error:
            if error.retryable:
                raise
            return PollResult(state="failed", error=error)

    return settled


def log_cancel_failure(provider: str, error: ProviderError) -> None:
    log.warning("cancel at %s failed (ignored, best effort): %s", provider, error.message)
