"""One run's services, data and processes: the API and the bare app under the same uvicorn
settings, Celery workers with the same pool, and a clock for job events seen on Redis."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
import redis.asyncio as aioredis

from bench.common import (
    ROOT,
    Key,
    Server,
    api_server,
    configure,
    fresh_database,
    new_account,
    new_key,
    running_jobs,
    services,
    stop,
)

BARE_APP = "bench.hotpaths.bare_api:create_app"
WORKER_CONCURRENCY = 2


@dataclass
class Stack:
    tmp: Path
    redis_url: str
    account_id: str
    key: Key
    template_job: str

    @property
    def bare_env(self) -> dict[str, str]:
        return {"BENCH_TEMPLATE_JOB": self.template_job}

    def log(self, name: str) -> Path:
        return self.tmp / f"{name}-{uuid.uuid4().hex[:6]}.log"


@contextmanager
def stack() -> Iterator[Stack]:
    """Services (configured or embedded), a throwaway database, an account, a key, a template job;
    the run's broker keys on a shared Redis are deleted at the end."""
    with tempfile.TemporaryDirectory(prefix="atelier-bench-hot-") as tmp:
        root = Path(tmp)
        with services(root) as (server_url, redis_url), fresh_database(server_url) as database_url:
            configure(database_url, redis_url, root)
            account_id = new_account()
            [template] = running_jobs(account_id, 1)
            try:
                yield Stack(root, redis_url, account_id, new_key(account_id), template)
            finally:
                _drop_broker_keys(redis_url)


def _drop_broker_keys(redis_url: str) -> None:
    from shared.settings import get_settings

    client = redis.Redis.from_url(redis_url)
    names = list(client.scan_iter(match=f"{get_settings().broker_prefix}*", count=1000))
    for start in range(0, len(names), 500):
        client.delete(*names[start:start + 500])
    client.close()


@contextmanager
def servers(run: Stack) -> Iterator[tuple[Server, Server]]:
    """(Atelier API, bare app), both fresh."""
    with ExitStack() as stack:
        atelier = stack.enter_context(api_server(run.log("api")))
        bare = stack.enter_context(api_server(run.log("bare"), app=BARE_APP, env=run.bare_env))
        yield atelier, bare


@contextmanager
def celery_worker(run: Stack, app: str, queues: str) -> Iterator[subprocess.Popen[bytes]]:
    """A prefork Celery worker (as ``atelier worker`` runs it), ready to consume when yielded."""
    log_path = run.log(app.rsplit(".", 1)[-1])
    command = [sys.executable, "-m", "celery", "-A", app, "worker", "-Q", queues, "-c", str(WORKER_CONCURRENCY),
               "--pool", "prefork", "-n", f"bench-{uuid.uuid4().hex[:8]}@%h", "--without-gossip",
               "--without-mingle", "--loglevel", "INFO"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120  # start-up takes long on a busy machine
        while " ready." not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker {app} did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield process
    finally:
        stop(process, grace=30)


class EventClock:
    """When each (job id, status) was first announced on the watched Redis channels, by this
    process's clock; ``wait`` blocks (bounded) until the given ones have all been seen."""

    def __init__(self, redis_url: str, channels: list[str]) -> None:
        self._redis_url = redis_url
        self._channels = channels
        self.seen: dict[tuple[str, str], float] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventClock:
        client = aioredis.Redis.from_url(self._redis_url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(*self._channels)
        self._task = asyncio.create_task(self._pump(client, pubsub))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _pump(self, client: aioredis.Redis, pubsub: aioredis.client.PubSub) -> None:
        try:
            async for message in pubsub.listen():
                arrived = time.perf_counter()
                event = json.loads(message["data"])
                self.seen.setdefault((event["job_id"], event["status"]), arrived)
                self._changed.set()
        finally:
            await pubsub.aclose()
            await client.aclose()

    async def wait(self, wanted: list[tuple[str, str]], timeout: float) -> list[tuple[str, str]]:
        """Wait until all ``wanted`` were seen or ``timeout`` passed; returns those never seen."""
        deadline = time.monotonic() + timeout
        while missing := [w for w in wanted if w not in self.seen]:
            left = deadline - time.monotonic()
            if left <= 0:
                return missing
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 1.0))
            except TimeoutError:
                pass
        return []
