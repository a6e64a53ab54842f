"""The synchronous client: ``Atelier``."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx
from httpx_sse import EventSource

from atelier.client import _http
from atelier.client._config import resolve, resolve_url
from atelier.client._paging import Page, page_fields
from atelier.client.errors import AtelierError, JobFailed
from atelier.client.models import Account, ApiKey, Asset, Job, JobEvent, LedgerEntry
from atelier.client.webhooks import Webhooks

Waiter = Callable[[JobEvent], None]
_sleep = time.sleep  # one seam for tests to record the waits instead of sleeping


class Atelier:
    """``Atelier(api_key=…, base_url=…)``; both default to ``ATELIER_API_KEY`` / ``ATELIER_API_URL``
    (then to ``$ATELIER_HOME/dev.env``). Use as a context manager, or call ``close()``."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None, *, timeout: float = 30.0,
                 max_retries: int = 3, http_client: httpx.Client | None = None) -> None:
        self.api_key, self.base_url = resolve(api_key, base_url)
        self.retry = _http.RetryPolicy(max_retries=max_retries)
        self._http = http_client or httpx.Client(timeout=timeout)
        self._http.base_url = httpx.URL(self.base_url)
        self._http.headers.update(_http.headers(self.api_key))
        self.jobs = Jobs(self)
        self.assets = Assets(self)
        self.account = AccountAPI(self)
        self.keys = Keys(self)
        self.webhooks = Webhooks()

    def __enter__(self) -> Atelier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- conveniences --------------------------------------------------------------------------

    def run(self, mode: str, *, via: str = "sse", timeout: float | None = None,
            on_event: Waiter | None = None, **params: Any) -> Job:
        """Create a job, wait for it (``via="sse"`` or ``"poll"``) and return it completed.
        A failed or aborted job raises ``JobFailed`` (its ``job`` attribute holds it)."""
        job = self.jobs.create(mode, **params)
        job = self.jobs.wait(job.id, timeout=timeout, via=via, on_event=on_event)
        if job.status != "completed":
            raise JobFailed(job)
        return job

    def upload(self, source: str | Path | IO[bytes], kind: str | None = None) -> Asset:
        return self.assets.upload(source, kind=kind)

    def download(self, asset: Asset | str, path: str | Path) -> Path:
        return self.assets.download(asset, path)

    # -- transport -----------------------------------------------------------------------------

    def send(self, method: str, path: str, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        """One request, retried on 429/503 (honouring ``Retry-After``) and on connection errors."""
        attempt = 0
        follow = bool(kwargs.pop("follow_redirects", False))
        while True:
            _rewind(kwargs.get("files"))
            try:
                response = self._http.send(self._http.build_request(method, path, **kwargs), stream=stream,
                                                         follow_redirects=follow)
            except httpx.TransportError as exc:
                delay = self.retry.delay(attempt, None)
                if delay is None:
                    raise _http.connection_error(exc) from exc
            else:
                delay = self.retry.delay(attempt, response) if _http.should_retry(response) else None
                if delay is None:
                    return response
                response.close()
            _sleep(delay)
            attempt += 1

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return _http.decode(self.send(method, path, **kwargs))

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        response = self.send(method, path, stream=True, **kwargs)
        try:
            if response.status_code >= 400:
                response.read()
                _http.decode(response)
            yield response
        finally:
            response.close()


def _rewind(files: Any) -> None:
    for _name, handle in (files or {}).values():
        if hasattr(handle, "seek"):
            handle.seek(0)


class Jobs:
    def __init__(self, client: Atelier) -> None:
        self._c = client

    def create(self, mode: str, *, idempotency_key: str | None = None, prefer_wait: int | None = None,
               **params: Any) -> Job:
        """``POST /v1/jobs``: mode and the mode's fields (``prompt``, ``input_image_asset_id``, …)."""
        headers = _http.idempotency_headers(idempotency_key)
        if prefer_wait:
            headers["Prefer"] = f"wait={prefer_wait}"
        timeout = httpx.Timeout(30.0, read=(prefer_wait or 0) + 30.0)
        return Job.from_dict(self._c.request("POST", "/v1/jobs", json=_http.job_body(mode, params),
                                             headers=headers, timeout=timeout))

    def get(self, job_id: str, *, wait: float | None = None) -> Job:
        """The job; with ``wait`` (≤ 60 s) the server holds the request until it is terminal."""
        params = {"wait": wait} if wait else None
        return Job.from_dict(self._c.request("GET", f"/v1/jobs/{job_id}", params=params,
                                             timeout=httpx.Timeout(30.0, read=(wait or 0) + 30.0)))

    def wait(self, job_id: str, *, timeout: float | None = None, via: str = "poll",
             on_event: Waiter | None = None) -> Job:
        """Block until the job is terminal (``via="sse"`` streams events, ``"poll"`` long-polls)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if via == "sse":
            job = None
            for event in self.stream(job_id):
                job = event.job
                if on_event:
                    on_event(event)
                if job.done or (deadline and time.monotonic() > deadline):
                    return job
            return job or self.get(job_id)
        while True:
            remaining = 60.0 if deadline is None else deadline - time.monotonic()
            job = self.get(job_id, wait=max(0.0, min(60.0, remaining)))
            if on_event:
                on_event(JobEvent("job", job))
            if job.done or remaining <= 0:
                return job

    def stream(self, job_id: str) -> Iterator[JobEvent]:
        """Typed events from ``GET /v1/jobs/{id}/events`` until the job is terminal; reconnects on a drop."""
        attempt = 0
        while True:
            try:
                with self._c.stream("GET", f"/v1/jobs/{job_id}/events", headers={"Accept": "text/event-stream"},
                                    timeout=httpx.Timeout(30.0, read=60.0)) as response:
                    for sse in EventSource(response).iter_sse():
                        if sse.event != "job" or not sse.data:
                            continue  # httpx-sse turns a keep-alive comment after an `id:` into an empty event
                        event = JobEvent(sse.event, Job.from_dict(sse.json()), sse.id or None)
                        attempt = 0
                        yield event
                        if event.job.done:
                            return
            except (httpx.TransportError, AtelierError) as exc:
                delay = self._c.retry.delay(attempt, None)
                if delay is None or (isinstance(exc, AtelierError) and exc.code != "CONNECTION_ERROR"):
                    raise exc if isinstance(exc, AtelierError) else _http.connection_error(exc) from exc
                _sleep(delay)
                attempt += 1

    def list(self, *, status: str | None = None, mode: str | None = None, limit: int | None = None,
             after: str | None = None) -> Page[Job]:
        """Newest first; iterating the page walks every page."""
        body = self._c.request("GET", "/v1/jobs", params=_http.list_params(limit, after,
                                                                           {"status": status, "mode": mode}))
        return Page(*page_fields(body, Job.from_dict),
                    _next=lambda cursor: self.list(status=status, mode=mode, limit=limit, after=cursor))

    def cancel(self, job_id: str) -> Job:
        return Job.from_dict(self._c.request("POST", f"/v1/jobs/{job_id}/cancel"))

    def delete(self, job_id: str) -> None:
        self._c.request("DELETE", f"/v1/jobs/{job_id}")

    def webhook_deliveries(self, job_id: str) -> builtins.list[dict[str, Any]]:
        return builtins.list(self._c.request("GET", f"/v1/jobs/{job_id}/webhook-deliveries")["data"])


class Assets:
    def __init__(self, client: Atelier) -> None:
        self._c = client

    def upload(self, source: str | Path | IO[bytes], *, kind: str | None = None,
               idempotency_key: str | None = None) -> Asset:
        """``POST /v1/assets`` from a path or a binary file; ``kind`` is guessed from the file name."""
        data, file, opened = _http.upload_parts(source, kind)
        try:
            return Asset.from_dict(self._c.request("POST", "/v1/assets", data=data, files={"file": file},
                                                   headers=_http.idempotency_headers(idempotency_key)))
        finally:
            if opened:
                file[1].close()

    def get(self, asset_id: str) -> Asset:
        return Asset.from_dict(self._c.request("GET", f"/v1/assets/{asset_id}"))

    def list(self, *, kind: str | None = None, limit: int | None = None, after: str | None = None) -> Page[Asset]:
        body = self._c.request("GET", "/v1/assets", params=_http.list_params(limit, after, {"kind": kind}))
        return Page(*page_fields(body, Asset.from_dict),
                    _next=lambda cursor: self.list(kind=kind, limit=limit, after=cursor))

    def download(self, asset: Asset | str, path: str | Path) -> Path:
        """Stream the asset's bytes to ``path`` (a directory gets the asset's id and extension)."""
        target = Path(path)
        with self._c.stream("GET", f"/v1/assets/{_http.asset_id(asset)}/content", follow_redirects=True) as response:
            target = _http.download_target(target, _http.asset_id(asset), response)
            partial = target.with_name(target.name + ".part")
            with partial.open("wb") as out:
                for chunk in response.iter_bytes(1024 * 1024):
                    out.write(chunk)
        partial.replace(target)
        return target

    def delete(self, asset_id: str) -> None:
        self._c.request("DELETE", f"/v1/assets/{asset_id}")


class AccountAPI:
    def __init__(self, client: Atelier) -> None:
        self._c = client

    def get(self) -> Account:
        return Account.from_dict(self._c.request("GET", "/v1/account"))

    def usage(self, *, from_: str | None = None, to: str | None = None, limit: int | None = None,
              after: str | None = None) -> Page[LedgerEntry]:
        """Ledger entries (holds, charges, grants) from ``GET /v1/account/usage``."""
        body = self._c.request("GET", "/v1/account/usage",
                               params=_http.list_params(limit, after, {"from": from_, "to": to}))
        return Page(*page_fields(body, LedgerEntry.from_dict),
                    _next=lambda cursor: self.usage(from_=from_, to=to, limit=limit, after=cursor))



class Keys:
    """The account's API keys. Managing keys is a person's act: the client's credential must be a
    session token (``login(...)`` gives one), not an API key (that is a 401)."""

    def __init__(self, client: Atelier) -> None:
        self._c = client

    def list(self) -> builtins.list[ApiKey]:
        return [ApiKey.from_dict(k) for k in self._c.request("GET", "/v1/keys")["data"]]

    def create(self, name: str | None = None, *, daily_credit_limit: int | None = None) -> ApiKey:
        """A new key; its secret (``.key``) is shown this once."""
        body = {k: v for k, v in (("name", name), ("daily_credit_limit", daily_credit_limit)) if v is not None}
        return ApiKey.from_dict(self._c.request("POST", "/v1/keys", json=body))

    def rotate(self, key_id: str) -> ApiKey:
        """A new secret for the same key id; the old one stops working at once."""
        return ApiKey.from_dict(self._c.request("POST", f"/v1/keys/{key_id}/rotate"))

    def revoke(self, key_id: str) -> None:
        self._c.request("DELETE", f"/v1/keys/{key_id}")


def login(email: str, password: str, *, base_url: str | None = None, timeout: float = 30.0) -> str:
    """A person's session token (``at_sess_…``) for ``email``: use it as ``api_key=`` to manage keys."""
    response = httpx.post(f"{resolve_url(base_url)}/v1/auth/login", json={"email": email, "password": password},
                          timeout=timeout, headers={"Accept": "application/json"})
    token: str = _http.decode(response)["session_token"]
    return token
