"""The bare baselines as one plain FastAPI app: what each hot path cannot avoid, and nothing else.

    uvicorn bench.hotpaths.bare_api:create_app --factory   (run by the bench, never deployed)

Same database, Redis and uvicorn settings as the API. Rows are copies of a template job read at
start-up, so the bare INSERT writes a row of the same shape into the same table (and keeps working
whatever the columns are called).

- ``POST /jobs``: one INSERT of a job-shaped row (P1).
- ``GET /jobs/{id}``: bearer-key lookup + SELECT by primary key (P2).
- ``POST /enqueue``: INSERT + ``apply_async`` of a bare Celery task (P3).
- ``GET /wait/{id}``: wait for a Redis pub/sub message, fanned out in asyncio (P4, P5).
- ``POST /floor/jobs`` and ``GET /floor/jobs/{id}``: the least any implementation of the contract
  must do per request, written as plainly as the baselines (P1/P2 floors, for reading the goals):
  the bare read plus the per-key rate limit in Redis (``shared.ratelimit.hit``, as the API calls
  it) and one access-log line; the POST also holds a credit (the account's guarded UPDATE and a
  ledger row) in the INSERT's transaction and sends the job's Celery task. Not included, so a
  floor is a lower bound: request validation beyond three fields, idempotency, job events, the
  response headers and the job's full view.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from celery import Celery
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel
from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, select, text

BARE_QUEUE = "bench.bare"
FLOOR_QUEUE = "bench.floor"  # nothing consumes it: P1 runs no worker, as for the API's own sends
access_log = logging.getLogger("bench.floor.access")
_KEY_RE = re.compile(r"^at_live_([A-Za-z0-9_-]{12,64})\.([A-Za-z0-9_-]{32,128})$")


class JobBody(BaseModel):
    mode: str
    prompt: str
    size: str | None = None


def _limit(key_id: str) -> None:
    from shared.ratelimit import hit
    from shared.redis_client import get_redis

    if not hit(get_redis(), f"key:{key_id}", 1_000_000).allowed:
        raise HTTPException(429)


def bare_channel() -> str:
    return f"{os.environ['ATELIER_BROKER_PREFIX']}bare-events"


def producer() -> Celery:
    from shared.queue import celery_config

    app = Celery("bench-bare-producer")
    app.conf.update(celery_config())
    return app


class Bare:
    def __init__(self) -> None:
        from shared.settings import get_settings

        settings = get_settings()  # the same pool as the API's: the comparison is of code, not of pool sizes
        self.engine: Engine = create_engine(os.environ["ATELIER_DATABASE_URL"], pool_size=settings.db_pool_size,
                                            max_overflow=settings.db_max_overflow)
        self.jobs = Table("jobs", MetaData(), autoload_with=self.engine)
        with self.engine.connect() as conn:
            template = conn.execute(select(self.jobs).where(self.jobs.c.id == os.environ["BENCH_TEMPLATE_JOB"]))
            self.template = dict(template.one()._mapping)
        self.celery = producer()
        self.waiters: dict[str, list[asyncio.Future[dict[str, Any]]]] = {}

    def row(self, body: JobBody) -> dict[str, Any]:
        """A new queued job row, a copy of the template's."""
        now = datetime.now(UTC)
        return {**self.template, "id": f"job_{secrets.token_hex(12)}", "status": "queued", "prompt": body.prompt,
                "created_at": now, "updated_at": now, "started_at": None}

    def insert(self, body: JobBody) -> dict[str, Any]:
        row = self.row(body)
        with self.engine.begin() as conn:
            conn.execute(self.jobs.insert().values(row))
        return {"id": row["id"], "object": "job", "status": "queued", "mode": body.mode}

    def read(self, authorization: str | None, job_id: str) -> dict[str, Any]:
        with self.engine.begin() as conn:
            account_id, _ = self.key(conn, authorization)
            return self.job(conn, account_id, job_id)

    def key(self, conn: Connection, authorization: str | None) -> tuple[str, str]:
        match = _KEY_RE.match((authorization or "").removeprefix("Bearer ").strip())
        if not match:
            raise HTTPException(401)
        key_id, secret = match.groups()
        key = conn.execute(text("SELECT k.secret_hash, k.account_id, k.revoked_at FROM api_keys k "
                                "JOIN accounts a ON a.id = k.account_id WHERE k.id = :id"), {"id": key_id}).first()
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if key is None or key.revoked_at is not None or not hmac.compare_digest(key.secret_hash, digest):
            raise HTTPException(401)
        return key.account_id, key_id

    def job(self, conn: Connection, account_id: str, job_id: str) -> dict[str, Any]:
        job = conn.execute(select(self.jobs).where(self.jobs.c.id == job_id,
                                                   self.jobs.c.account_id == account_id)).first()
        if job is None:
            raise HTTPException(404)
        return dict(job._mapping)

    def floor_read(self, authorization: str | None, job_id: str) -> dict[str, Any]:
        with self.engine.begin() as conn:
            account_id, key_id = self.key(conn, authorization)
            _limit(key_id)
            view = self.job(conn, account_id, job_id)
        access_log.info("%s %s %d", "GET", "/floor/jobs/{job_id}", 200)
        return view

    def floor_create(self, authorization: str | None, body: JobBody) -> dict[str, Any]:
        row = self.row(body)
        with self.engine.begin() as conn:
            account_id, key_id = self.key(conn, authorization)
            _limit(key_id)
            held = conn.execute(text("UPDATE accounts SET held = held + 1 WHERE id = :id AND balance - held >= 1 "
                                     "RETURNING balance, held"), {"id": account_id}).first()
            if held is None:
                raise HTTPException(402)
            conn.execute(text("INSERT INTO credit_ledger (account_id, job_id, kind, amount, held_change, "
                              "balance_after, held_after) VALUES (:a, :j, 'hold', 0, 1, :b, :h)"),
                         {"a": account_id, "j": row["id"], "b": held.balance, "h": held.held})
            conn.execute(self.jobs.insert().values({**row, "account_id": account_id}))
        self.celery.send_task("bench.started", args=[row["id"], bare_channel()], queue=FLOOR_QUEUE)
        access_log.info("%s %s %d", "POST", "/floor/jobs", 202)
        return {"id": row["id"], "object": "job", "status": "queued", "mode": body.mode}

    async def listen(self) -> None:
        client = aioredis.Redis.from_url(os.environ["ATELIER_REDIS_URL"])
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(bare_channel())
        async for message in pubsub.listen():
            event = json.loads(message["data"])
            for future in self.waiters.pop(event["job_id"], ()):
                if not future.done():
                    future.set_result(event)


def create_app() -> FastAPI:
    from shared import logs

    logs.configure("json", "INFO")  # the floors' access lines, formatted as the API's are
    bare = Bare()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(bare.listen())
        yield
        task.cancel()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/jobs", status_code=202)
    def create_job(body: JobBody) -> dict[str, Any]:
        return bare.insert(body)

    @app.get("/jobs/{job_id}")
    def get_job(job_id: str, authorization: str | None = Header(None)) -> dict[str, Any]:
        return bare.read(authorization, job_id)

    _floor_routes(app, bare)

    @app.post("/enqueue", status_code=202)
    def enqueue(body: JobBody) -> dict[str, Any]:
        view = bare.insert(body)
        bare.celery.send_task("bench.started", args=[view["id"], bare_channel()], queue=BARE_QUEUE)
        return view

    @app.get("/waiters")
    def waiters() -> dict[str, int]:
        return {"count": sum(len(f) for f in bare.waiters.values())}

    @app.get("/wait/{job_id}")
    async def wait(job_id: str, wait: float = 30.0) -> Any:
        future = asyncio.get_running_loop().create_future()
        bare.waiters.setdefault(job_id, []).append(future)
        try:
            event = await asyncio.wait_for(future, wait)
        except TimeoutError:
            return {"id": job_id, "status": "running"}
        return event.get("job") or {"id": job_id, "status": event["status"]}

    return app


def _floor_routes(app: FastAPI, bare: Bare) -> None:
    @app.post("/floor/jobs", status_code=202)
    def floor_create(body: JobBody, authorization: str | None = Header(None)) -> dict[str, Any]:
        return bare.floor_create(authorization, body)

    @app.get("/floor/jobs/{job_id}")
    def floor_read(job_id: str, authorization: str | None = Header(None)) -> dict[str, Any]:
        return bare.floor_read(authorization, job_id)
