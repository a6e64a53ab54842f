"""The asyncio client: ``AsyncAtelier``, method for method the twin of ``Atelier``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

import httpx
from httpx_sse import EventSource

from atelier.client import _http
from atelier.client._config import resolve
from atelier.client._paging import AsyncPage, page_fields
from atelier.client._sync import _rewind
from atelier.client.errors import AtelierError, JobFailed
from atelier.client.models import Account, ApiKey, Asset, Job, JobEvent, LedgerEntry
from atelier.client.webhooks import Webhooks

AsyncWaiter = Callable[[JobEvent], Awaitable[None] | None]
_sleep = asyncio.sleep  # one seam for tests to record the waits instead of sleeping


class AsyncAtelier:
    """``async with AsyncAtelier() as client: job = await client.run("text_to_image", prompt=…)``."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None, *, timeout: float = 30.0,
                 max_retries: int = 3, http_client: httpx.AsyncClient | None = None) -> None:
        self.api_key, self.base_url = resolve(api_key, base_url)
        self.retry = _http.RetryPolicy(max_retries=max_retries)
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self._http.base_url = httpx.URL(self.base_url)
        self._http.headers.update(_http.headers(self.api_key))
        self.jobs = AsyncJobs(self)
        self.assets = AsyncAssets(self)
        self.account = AsyncAccountAPI(self)
        self.keys = AsyncKeys(self)
        self.webhooks = Webhooks()

    async def __aenter__(self) -> AsyncAtelier:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def run(self, mode: str, *, via: str = "sse", timeout: float | None = None,
                  on_event: AsyncWaiter | None = None, **params: Any) -> Job:
        job = await self.jobs.create(mode, **params)
        job = await self.jobs.wait(job.id, timeout=timeout, via=via, on_event=on_event)
        if job.status != "completed":
            raise JobFailed(job)
        return job

    async def upload(self, source: str | Path | IO[bytes], kind: str | None = None) -> Asset:
        return await self.assets.upload(source, kind=kind)

    async def download(self, asset: Asset | str, path: str | Path) -> Path:
        return await self.assets.download(asset, path)

    async def send(self, method: str, path: str, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        attempt = 0
        follow = bool(kwargs.pop("follow_redirects", False))
        while True:
            _rewind(kwargs.get("files"))
            try:
                response = await self._http.send(self._http.build_request(method, path, **kwargs), stream=stream,
                                               follow_redirects=follow)
            except httpx.TransportError as exc:
                delay = self.retry.delay(attempt, None)
                if delay is None:
                    raise _http.connection_error(exc) from exc
            else:
                delay = self.retry.delay(attempt, response) if _http.should_retry(response) else None
                if delay is None:
                    return response
                await response.aclose()
            await _sleep(delay)
            attempt += 1

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return _http.decode(await self.send(method, path, **kwargs))

    @asynccontextmanager
    async def stream(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        response = await self.send(method, path, stream=True, **kwargs)
        try:
            if response.status_code >= 400:
                await response.aread()
                _http.decode(response)
            yield response
        finally:
            await response.aclose()


async def _notify(on_event: AsyncWaiter | None, event: JobEvent) -> None:
    if on_event is not None:
        outcome = on_event(event)
        if outcome is not None:
            await outcome


class AsyncJobs:
    def __init__(self, client: AsyncAtelier) -> None:
        self._c = client

    async def create(self, mode: str, *, idempotency_key: str | None = None, prefer_wait: int | None = None,
                     **params: Any) -> Job:
        headers = _http.idempotency_headers(idempotency_key)
        if prefer_wait:
            headers["Prefer"] = f"wait={prefer_wait}"
        timeout = httpx.Timeout(30.0, read=(prefer_wait or 0) + 30.0)
        return Job.from_dict(await self._c.request("POST", "/v1/jobs", json=_http.job_body(mode, params),
                                                   headers=headers, timeout=timeout))

    async def get(self, job_id: str, *, wait: float | None = None) -> Job:
        params = {"wait": wait} if wait else None
        return Job.from_dict(await self._c.request("GET", f"/v1/jobs/{job_id}", params=params,
                                                   timeout=httpx.Timeout(30.0, read=(wait or 0) + 30.0)))

    async def wait(self, job_id: str, *, timeout: float | None = None, via: str = "poll",
                   on_event: AsyncWaiter | None = None) -> Job:
        deadline = None if timeout is None else time.monotonic() + timeout
        if via == "sse":
            job = None
            async for event in self.stream(job_id):
                job = event.job
                await _notify(on_event, event)
                if job.done or (deadline and time.monotonic() > deadline):
                    return job
            return job or await self.get(job_id)
        while True:
            remaining = 60.0 if deadline is None else deadline - time.monotonic()
            job = await self.get(job_id, wait=max(0.0, min(60.0, remaining)))
            await _notify(on_event, JobEvent("job", job))
            if job.done or remaining <= 0:
                return job

    async def stream(self, job_id: str) -> AsyncIterator[JobEvent]:
        attempt = 0
        while True:
            try:
                async with self._c.stream("GET", f"/v1/jobs/{job_id}/events",
                                          headers={"Accept": "text/event-stream"},
                                          timeout=httpx.Timeout(30.0, read=60.0)) as response:
                    async for sse in EventSource(response).aiter_sse():
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
                await _sleep(delay)
                attempt += 1

    async def list(self, *, status: str | None = None, mode: str | None = None, limit: int | None = None,
                   after: str | None = None) -> AsyncPage[Job]:
        body = await self._c.request("GET", "/v1/jobs",
                                     params=_http.list_params(limit, after, {"status": status, "mode": mode}))
        return AsyncPage(*page_fields(body, Job.from_dict),
                         _next=lambda cursor: self.list(status=status, mode=mode, limit=limit, after=cursor))

    async def cancel(self, job_id: str) -> Job:
        return Job.from_dict(await self._c.request("POST", f"/v1/jobs/{job_id}/cancel"))

    async def delete(self, job_id: str) -> None:
        await self._c.request("DELETE", f"/v1/jobs/{job_id}")


class AsyncAssets:
    def __init__(self, client: AsyncAtelier) -> None:
        self._c = client

    async def upload(self, source: str | Path | IO[bytes], *, kind: str | None = None,
                     idempotency_key: str | None = None) -> Asset:
        data, file, opened = _http.upload_parts(source, kind)
        try:
            return Asset.from_dict(await self._c.request("POST", "/v1/assets", data=data, files={"file": file},
                                                         headers=_http.idempotency_headers(idempotency_key)))
        finally:
            if opened:
                file[1].close()

    async def get(self, asset_id: str) -> Asset:
        return Asset.from_dict(await self._c.request("GET", f"/v1/assets/{asset_id}"))

    async def list(self, *, kind: str | None = None, limit: int | None = None,
                   after: str | None = None) -> AsyncPage[Asset]:
        body = await self._c.request("GET", "/v1/assets", params=_http.list_params(limit, after, {"kind": kind}))
        return AsyncPage(*page_fields(body, Asset.from_dict),
                         _next=lambda cursor: self.list(kind=kind, limit=limit, after=cursor))

    async def download(self, asset: Asset | str, path: str | Path) -> Path:
        ident = _http.asset_id(asset)
        async with self._c.stream("GET", f"/v1/assets/{ident}/content", follow_redirects=True) as response:
            target = _http.download_target(Path(path), ident, response)
            partial = target.with_name(target.name + ".part")
            with partial.open("wb") as out:
                async for chunk in response.aiter_bytes(1024 * 1024):
                    out.write(chunk)
        partial.replace(target)
        return target

    async def delete(self, asset_id: str) -> None:
        await self._c.request("DELETE", f"/v1/assets/{asset_id}")


class AsyncAccountAPI:
    def __init__(self, client: AsyncAtelier) -> None:
        self._c = client

    async def get(self) -> Account:
        return Account.from_dict(await self._c.request("GET", "/v1/account"))

    async def usage(self, *, from_: str | None = None, to: str | None = None, limit: int | None = None,
                    after: str | None = None) -> AsyncPage[LedgerEntry]:
        body = await self._c.request("GET", "/v1/account/usage",
                                     params=_http.list_params(limit, after, {"from": from_, "to": to}))
        return AsyncPage(*page_fields(body, LedgerEntry.from_dict),
                         _next=lambda cursor: self.usage(from_=from_, to=to, limit=limit, after=cursor))


class AsyncKeys:
    """``Keys`` for asyncio: the credential must be a person's session token, not an API key."""

    def __init__(self, client: AsyncAtelier) -> None:
        self._c = client

    async def list(self) -> list[ApiKey]:
        return [ApiKey.from_dict(k) for k in (await self._c.request("GET", "/v1/keys"))["data"]]

    async def create(self, name: str | None = None, *, daily_credit_limit: int | None = None) -> ApiKey:
        body = {k: v for k, v in (("name", name), ("daily_credit_limit", daily_credit_limit)) if v is not None}
        return ApiKey.from_dict(await self._c.request("POST", "/v1/keys", json=body))

    async def rotate(self, key_id: str) -> ApiKey:
        return ApiKey.from_dict(await self._c.request("POST", f"/v1/keys/{key_id}/rotate"))

    async def revoke(self, key_id: str) -> None:
        await self._c.request("DELETE", f"/v1/keys/{key_id}")
