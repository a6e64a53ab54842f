"""One provider's HTTP session: its credentials, timeouts, error mapping and download rules."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from shared import metrics
from shared.net import guarded_client, save_body
from workers.providers.base import GenerationRequest, ProviderError, UpstreamUnavailable
from workers.providers.http.download import download_to
from workers.providers.http.errors import error_for_exception, error_for_response
from workers.providers.http.files import MAX_DOWNLOAD_BYTES, SavedFile, finalize, output_limits, part_path

log = logging.getLogger(__name__)

#: Builds the per-job URL an upstream should call when the job finishes, or None for none.
CallbackURL = Callable[[GenerationRequest], str | None]

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0


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
        self._downloads: httpx.Client | None = None

    @property
    def downloads(self) -> httpx.Client:
        """The guarded client for URLs the upstream hands back (made on first use)."""
        if self._downloads is None:
            self._downloads = guarded_client(
                allow_private=self.allow_private_urls, timeout=READ_TIMEOUT,
                connect_timeout=CONNECT_TIMEOUT, total_timeout=0)
        return self._downloads

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
        metrics.upstream_call(self.provider, None if failure else response.status_code)
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

    def stream_to(self, method: str, url: str, dest: Path, *, content_type: str | None = None,
                  **kwargs: Any) -> SavedFile:
        """An authenticated request whose body is the result file (OpenAI speech); ``content_type``
        names a body that cannot be recognised (raw samples) instead of detecting it."""
        headers = {**self._auth, **kwargs.pop("headers", {})}
        failure: ProviderError | None = None
        try:
            with self.client.stream(method, url, headers=headers, **kwargs) as response:
                if not response.is_success:
                    failure = self.error(response)
                else:
                    part = part_path(dest)
                    with output_limits():
                        size = save_body(response, part, max_bytes=self.max_download_bytes)
                    header = response.headers.get("content-type")
                    return finalize(part, dest, size, header=header, url=None, content_type=content_type)
        except httpx.HTTPError as exc:
            failure = error_for_exception(exc, provider=self.provider, secrets=self._secrets)
        assert failure is not None
        raise failure

    def download(
        self, url: str, dest: Path, *, content_type_hint: str | None = None, check_url: bool = True
    ) -> SavedFile:
        """Fetch a result file through the guarded client; ``check_url=False`` only for our own
        storage's signed URLs (which may well be on a private network, like MinIO)."""
        return download_to(
            self.downloads if check_url else self.client,
            url,
            dest,
            max_bytes=self.max_download_bytes,
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




def log_cancel_failure(provider: str, error: ProviderError) -> None:
    log.warning("cancel at %s failed (ignored, best effort): %s", provider, error.message)
