"""The API side of the job-event bus: one Redis subscription per process, fanned out to the
requests waiting on jobs (long polls, event streams, synchronous calls).

The hub keeps, per job with waiters here, a ``_Watch``: the waiters, and what they learned of the
job (its owner and status). An event is decoded once, and only if someone here waits for its job;
all waiters of the job get the same ``JobEvent`` (read-only), and what they derive from it (a
response body) is computed once (``JobEvent.derive``). A waiting request holds a
``JobEventWaiter`` (a few slots), not a database connection, a thread or a Redis connection.

Typical use::

    # lifespan
    hub = JobEventHub(settings.require_redis_url())
    await hub.start()
    yield
    await hub.stop()

    # long-poll: register first, then read, so a change between the read and the
    # wait still wakes us
    async with hub.subscribe(job_id) as waiter:
        status = await hub.status(waiter, account_id, read_status)
        while status not in TERMINAL and (left := deadline - loop.time()) > 0:
            if (event := await waiter.next(timeout=left)) is None:
                break
            status = event.status
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff

from shared.jobs.events import CHANNEL

T = TypeVar("T")
log = logging.getLogger(__name__)


class JobEvent:
    """One decoded job event, shared by every waiter of its job in this process: decoded once,
    read-only for everyone (``view`` included), and anything derived from it (a response body)
    computed once with ``derive``."""

    __slots__ = ("job_id", "status", "progress", "ts", "view", "_derived")

    def __init__(self, job_id: str, status: str | None, progress: Any, ts: Any,
                 view: dict[str, Any] | None) -> None:
        self.job_id = job_id
        self.status = status
        self.progress = progress
        self.ts = ts
        #: The job's public view as committed (transitions carry it; progress reports do not).
        self.view = view
        self._derived: dict[Callable[[dict[str, Any]], Any], Any] | None = None

    @classmethod
    def of(cls, data: Any) -> JobEvent | None:
        """The event in a published message, or None when it is not one."""
        try:
            raw = json.loads(data)
        except (TypeError, ValueError):
            return None
        job_id = raw.get("job_id") if isinstance(raw, dict) else None
        if not isinstance(job_id, str):
            return None
        view = raw.get("job")
        return cls(job_id, raw.get("status"), raw.get("progress"), raw.get("ts"),
                   view if isinstance(view, dict) else None)

    def derive(self, fn: Callable[[dict[str, Any]], T]) -> T:
        """``fn(view)``, computed for the first waiter that asks and shared with the others."""
        assert self.view is not None, "only events that carry the job's view"
        derived = self._derived
        if derived is None:
            derived = self._derived = {}
        if fn not in derived:
            derived[fn] = fn(self.view)
        result: T = derived[fn]
        return result


def _expire(wake: asyncio.Future[None]) -> None:
    if not wake.done():
        wake.set_result(None)


class JobEventWaiter:
    """The events of one job, for one waiting request: a few slots, no queue until an event is
    pending, a future only while someone awaits ``next``."""

    __slots__ = ("job_id", "_max_pending", "_pending", "_wake")

    def __init__(self, job_id: str, max_pending: int) -> None:
        self.job_id = job_id
        self._max_pending = max_pending
        self._pending: list[JobEvent] | None = None
        self._wake: asyncio.Future[None] | None = None

    async def next(self, timeout: float) -> JobEvent | None:
        """The next event for the job, or None if none arrives within ``timeout`` seconds."""
        if self._pending or timeout <= 0:
            return self._take()
        loop = asyncio.get_running_loop()
        wake = self._wake = loop.create_future()
        timer = loop.call_later(timeout, _expire, wake)
        try:
            await wake
        finally:
            timer.cancel()
            self._wake = None
        return self._take()

    def _take(self) -> JobEvent | None:
        pending = self._pending
        if not pending:
            return None
        event = pending.pop(0)
        if not pending:
            self._pending = None
        return event

    def _deliver(self, event: JobEvent) -> None:
        pending = self._pending
        if pending is None:
            self._pending = [event]
        else:
            if len(pending) >= self._max_pending:
                # Events are "look again" signals: a slow reader needs the newest, not all of them.
                del pending[0]
            pending.append(event)
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)


#: How far along each status is: a job only moves forward (queued → running → an end).
_STAGE = {"queued": 0, "running": 1}


def _stage(status: str | None) -> int:
    return -1 if status is None else _STAGE.get(status, 2)


class _Watch:
    """The waiters of one job in this process, and what they learned of it: its owner and its
    status, as read by one of them (``JobEventHub.status``) and moved on by every event since."""

    __slots__ = ("waiters", "owner", "status")

    def __init__(self) -> None:
        self.waiters: set[JobEventWaiter] = set()
        self.owner: str | None = None
        self.status: str | None = None

    def learn(self, status: str | None) -> None:
        if _stage(status) > _stage(self.status):
            self.status = status

    def forget(self) -> None:
        self.owner = self.status = None


class JobEventHub:
    """One Redis subscription per process, fanned out to in-process waiters.

    Use it from a single event loop (the API's). Reconnects with jittered exponential
    back-off when the connection drops, and treats a connection that stops answering
    pings as dropped (a silently dead TCP connection would otherwise never error).
    """

    def __init__(
        self,
        redis_url: str,
        *,
        channel: str = CHANNEL,
        client_name: str = "atelier-job-events",
        ping_interval: float = 10.0,
        max_backoff: float = 5.0,
        max_pending: int = 32,
    ) -> None:
        self.channel = channel
        self._redis_url = redis_url
        self._client_name = client_name
        self._ping_interval = ping_interval
        self._max_backoff = max_backoff
        self._max_pending = max_pending
        self._watches: dict[str, _Watch] = {}
        #: Changes whenever the subscription comes or goes: a status read across a change may
        #: predate an event the hub never saw, so it is not kept.
        self._generation = 0
        self._task: asyncio.Task[None] | None = None
        self._subscribed: asyncio.Event | None = None
        self._failures = 0

    @property
    def subscribed(self) -> bool:
        """Whether the Redis subscription is currently live."""
        return self._subscribed is not None and self._subscribed.is_set()

    @property
    def waiter_count(self) -> int:
        return sum(len(watch.waiters) for watch in self._watches.values())

    async def start(self, *, wait: float = 5.0) -> None:
        """Start listening; wait up to ``wait`` seconds for the subscription. A Redis that
        is down does not fail start-up: the hub keeps retrying in the background."""
        if self._task is not None:
            return
        self._subscribed = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="atelier-job-events")
        if not await self.wait_subscribed(wait):
            log.warning("job events: not subscribed after %.1fs; retrying in the background", wait)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def wait_subscribed(self, timeout: float) -> bool:
        """Wait until the subscription is live; False if it is not within ``timeout``."""
        if self._subscribed is None:
            return False
        try:
            async with asyncio.timeout(timeout):
                await self._subscribed.wait()
        except TimeoutError:
            return False
        return True

    @asynccontextmanager
    async def subscribe(self, job_id: str) -> AsyncIterator[JobEventWaiter]:
        """Register a waiter for ``job_id`` for the duration of the block.

        Registration is immediate, so enter this *before* reading the job's state.
        Events arrive only while the hub is started and subscribed; otherwise the
        waiter's ``next`` simply times out.
        """
        waiter = JobEventWaiter(job_id, self._max_pending)
        watch = self._watches.get(job_id)
        if watch is None:
            watch = self._watches[job_id] = _Watch()
        watch.waiters.add(waiter)
        try:
            yield waiter
        finally:
            watch.waiters.discard(waiter)
            if not watch.waiters and self._watches.get(job_id) is watch:
                del self._watches[job_id]

    async def status(self, waiter: JobEventWaiter, account_id: str, read: Callable[[], Awaitable[str]]) -> str:
        """The status of a subscribed waiter's job, which must be ``account_id``'s.

        ``read()`` reads it (and raises when the job is not the account's), unless another waiter
        of the job, for the same account, read it while this hub stayed subscribed: every change
        since then came as an event and moved the watch's status on, so it is current (a job
        deleted meanwhile is the exception: its waiters learn it when their wait ends). So of
        many waiters on one job, one reads.
        """
        watch = self._watches[waiter.job_id]
        if watch.owner == account_id and watch.status is not None and self.subscribed:
            return watch.status
        generation = self._generation
        status = await read()
        if self.subscribed and self._generation == generation and self._watches.get(waiter.job_id) is watch:
            watch.owner = account_id
            watch.learn(status)
            return watch.status or status
        return status

    async def _run(self) -> None:
        assert self._subscribed is not None
        while True:
            client = aioredis.Redis.from_url(
                self._redis_url,
                decode_responses=True,
                client_name=self._client_name,
                socket_connect_timeout=5,
                socket_timeout=5,
                socket_keepalive=True,
                # redis-py would silently reconnect and resubscribe on its own; we
                # want one place that reconnects, with back-off and a log line.
                retry=AsyncRetry(NoBackoff(), 0),
            )
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                await self._pump(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure means: drop this connection and start over
                self._failures += 1
                log.warning("job events: subscription lost (%s: %s); reconnecting", type(exc).__name__, exc)
            finally:
                self._subscribed.clear()
                self._new_generation()
                await _close_quietly(pubsub, client)
            await asyncio.sleep(self._backoff())

    async def _pump(self, pubsub: Any) -> None:
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + self._ping_interval
        pinged_at: float | None = None
        last_seen = loop.time()
        while True:
            message = await pubsub.get_message(timeout=max(0.0, next_ping - loop.time()))
            if message is not None:
                last_seen = loop.time()
                self._handle(message)
            if loop.time() >= next_ping:
                if pinged_at is not None and last_seen < pinged_at:
                    raise ConnectionError(f"no answer from Redis to a ping within {self._ping_interval:g}s")
                await pubsub.ping()
                pinged_at = loop.time()
                next_ping = pinged_at + self._ping_interval

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "subscribe":
            # Redis has confirmed the subscription: from now on no event is missed.
            assert self._subscribed is not None
            self._subscribed.set()
            self._new_generation()
            self._failures = 0
            log.info("job events: subscribed to %s", self.channel)
            return
        if kind != "message":
            return  # pong: proof of life only
        named = _job_id_of(message.get("data"))
        if named is not None and named not in self._watches:
            return  # nobody here waits for that job: not worth decoding
        event = JobEvent.of(message.get("data"))
        if event is None:
            log.warning("job events: ignored malformed message %.200r", message.get("data"))
            return
        watch = self._watches.get(event.job_id)
        if watch is None:
            return
        watch.learn(event.status)
        # Decoded once; every waiter of the job gets the same (read-only) event.
        for waiter in tuple(watch.waiters):
            waiter._deliver(event)

    def _new_generation(self) -> None:
        """Events may have been missed: what watches learned is no longer known to be current."""
        self._generation += 1
        for watch in self._watches.values():
            watch.forget()

    def _backoff(self) -> float:
        ceiling = min(self._max_backoff, 0.1 * 2 ** min(self._failures, 10))
        return random.uniform(ceiling / 2, ceiling)


_PREFIX = '{"job_id": "'  # how publish_job_event's JSON starts


def _job_id_of(data: Any) -> str | None:
    """The job id at the start of an event as ``publish_job_event`` writes it, without decoding the
    rest; None when the message does not start that way (it is then decoded in full)."""
    if not isinstance(data, str) or not data.startswith(_PREFIX):
        return None
    end = data.find('"', len(_PREFIX))
    job_id = data[len(_PREFIX):end]
    return job_id if end > 0 and "\\" not in job_id else None


async def _close_quietly(pubsub: Any, client: aioredis.Redis) -> None:
    for close in (pubsub.aclose, client.aclose):
        try:
            await close()
        except Exception as exc:  # closing a broken connection may fail; nothing to do about it
            log.debug("job events: error while closing: %s", exc)
