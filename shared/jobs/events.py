"""Job events: what a committed transition announces, and the bus that carries it.

``transition`` runs inside the transaction that changed a job: it serializes the job's public
view once, queues webhook deliveries for the job's subscribed events (rows in the same
transaction) and, after the commit, publishes the job event that wakes waiting requests.

The bus: workers announce job changes, API processes wake their waiters.

After each job state or progress commit, the committer publishes a small JSON message
on the Redis channel ``atelier:job-events``::

    {"job_id": "job_…", "status": "running", "progress": 40, "ts": 1790000000.123}

Postgres stays the source of truth: an event only says "look again". A lost event
(Redis down, reconnect gap) delays a waiter until its own timeout, nothing worse, so
publishing never fails the caller.

Each API process runs one ``JobEventHub``: one Redis connection subscribed to the
channel, and an in-memory map from job id to the waiters of the requests currently
long-polling or streaming that job. A waiting request holds a ``JobEventWaiter`` (a few
slots), not a database connection, a thread or a Redis connection. An event is decoded once
per process, and only if someone here waits for its job; all waiters of the job get the same
``JobEvent`` (read-only), and what they derive from it (a response body) is computed once
(``JobEvent.derive``). Typical use::

    # lifespan
    hub = JobEventHub(settings.require_redis_url())
    await hub.start()
    yield
    await hub.stop()

    # long-poll: register first, then read, so a change between the read and the
    # wait still wakes us
    async with hub.subscribe(job_id) as waiter:
        status = await read_status(job_id)
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
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.orm import Session

from shared import metrics
from shared.db.models import Job
from shared.db.session import after_commit
from shared.redis_client import get_redis
from shared.settings import get_settings
from shared.views import job_view
from shared.webhooks import outbox

CHANNEL = "atelier:job-events"
T = TypeVar("T")

log = logging.getLogger(__name__)


def publisher_client(redis_url: str) -> redis.Redis:
    """A sync client suited to ``publish_job_event``: it gives up quickly when Redis is
    down, because publishing runs after a commit, on a worker's or a request's time."""
    return redis.Redis.from_url(
        redis_url,
        socket_connect_timeout=2,
        socket_timeout=2,
        retry=Retry(NoBackoff(), 1),
    )


def publish_job_event(
    client: redis.Redis, job_id: str, status: str, progress: float | int, *, channel: str = CHANNEL,
    job: dict[str, Any] | None = None,
) -> None:
    """Announce a committed change of a job. Redis errors are logged, never raised.

    ``job``, the public view of the job as committed, lets waiters answer without reading the
    database again. ``client`` should fail fast (see ``publisher_client``); redis-py's
    defaults retry for seconds before giving up.
    """
    event: dict[str, Any] = {"job_id": job_id, "status": status, "progress": progress, "ts": time.time()}
    if job is not None:
        event["job"] = job
    message = json.dumps(event)
    try:
        client.publish(channel, message)
    except redis.RedisError as exc:
        log.warning("job event for %s (%s) not published: %s", job_id, status, exc)


def publish_event(job_id: str, status: str, progress: int, view: dict[str, Any] | None = None) -> None:
    publish_job_event(get_redis(), job_id, status, progress, job=view)


def _committed(view: dict[str, Any]) -> None:
    metrics.job_transition(view)
    publish_event(view["id"], view["status"], view["progress"], view)


def transition(session: Session, job: Job) -> None:
    """Announce the job's new state: webhook rows now, the job event after the commit."""
    # Serialized once, inside the transaction: the event and the webhook carry the same view.
    view = job_view(job, get_settings().base_url)
    after_commit(session, lambda: _committed(view))
    event_type = f"job.{job.status}"
    if job.webhook_url and event_type in (job.webhook_events or []):
        outbox.enqueue_event(session, job, event_type, view)


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
        self._waiters: dict[str, set[JobEventWaiter]] = {}
        self._task: asyncio.Task[None] | None = None
        self._subscribed: asyncio.Event | None = None
        self._failures = 0

    @property
    def subscribed(self) -> bool:
        """Whether the Redis subscription is currently live."""
        return self._subscribed is not None and self._subscribed.is_set()

    @property
    def waiter_count(self) -> int:
        return sum(len(waiters) for waiters in self._waiters.values())

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
        self._waiters.setdefault(job_id, set()).add(waiter)
        try:
            yield waiter
        finally:
            waiters = self._waiters.get(job_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[job_id]

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
            self._failures = 0
            log.info("job events: subscribed to %s", self.channel)
            return
        if kind != "message":
            return  # pong: proof of life only
        named = _job_id_of(message.get("data"))
        if named is not None and named not in self._waiters:
            return  # nobody here waits for that job: not worth decoding
        event = JobEvent.of(message.get("data"))
        if event is None:
            log.warning("job events: ignored malformed message %.200r", message.get("data"))
            return
        # Decoded once; every waiter of the job gets the same (read-only) event.
        for waiter in tuple(self._waiters.get(event.job_id, ())):
            waiter._deliver(event)

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
