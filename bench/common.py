"""What every benchmark shares: services, a throwaway database, accounts and keys, servers.

Services are ``ATELIER_BENCH_DATABASE_URL`` / ``ATELIER_BENCH_REDIS_URL`` when set, else an
embedded PostgreSQL and Redis; each run gets its own database (dropped at the end) and broker prefix.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis
from sqlalchemy import func, select, text, update

from shared.embedded import free_port, start_postgres, start_redis

ROOT = Path(__file__).resolve().parents[1]
RATE_LIMIT = 10_000_000  # per minute, for the bench's plan: the bench must never see a 429
#: One worker process, uvloop, httptools, no access log: Atelier and the bare apps alike.
UVICORN = ["--workers", "1", "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]


@contextmanager
def services(tmp: Path) -> Iterator[tuple[str, str]]:
    """(Postgres server URL, Redis URL): the configured servers, else embedded ones."""
    with ExitStack() as stack:
        database_url = os.environ.get("ATELIER_BENCH_DATABASE_URL")
        if not database_url:
            pg = start_postgres(tmp / "pg", cleanup="delete")
            stack.callback(pg.stop)
            database_url = pg.url
        redis_url = os.environ.get("ATELIER_BENCH_REDIS_URL")
        if not redis_url:
            embedded = start_redis(tmp / "redis.db")
            stack.callback(embedded.stop)
            redis_url = embedded.url
        yield database_url, redis_url


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A database of this run's own, dropped afterwards."""
    from shared.db.session import reset_engine
    from shared.embedded import scratch_database

    with scratch_database(server_url, "atelier_bench") as url:
        try:
            yield url
        finally:
            reset_engine()


def configure(database_url: str, redis_url: str, tmp: Path) -> None:
    """Point Atelier at the run's services, in this process and (inherited) in the server's; migrate."""
    from shared.db.migrate import upgrade

    os.environ.update({
        "ATELIER_DATABASE_URL": database_url,
        "ATELIER_REDIS_URL": redis_url,
        "ATELIER_HOME": str(tmp / "home"),
        "ATELIER_STORAGE": "local",
        "ATELIER_STORAGE_DIR": str(tmp / "storage"),
        # Nothing is enqueued (see running_jobs), but a shared Redis must never mix runs anyway.
        "ATELIER_BROKER_PREFIX": f"atelier-bench-{uuid.uuid4().hex[:8]}:",
    })
    upgrade(database_url)


@dataclass(frozen=True)
class Key:
    account_id: str
    key_id: str
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


def new_account() -> str:
    """A professional account with ample credits, its plan's rate limit raised (a throwaway DB)."""
    from shared.accounts import create_account
    from shared.credits.ledger import grant
    from shared.db.models import Plan
    from shared.db.session import session_scope

    with session_scope() as session:
        session.execute(update(Plan).where(Plan.id == "professional").values(rate_limit_per_minute=RATE_LIMIT))
        account = create_account(session, f"bench-{uuid.uuid4().hex[:12]}@example.com", "professional")
        grant(session, account.id, 10**9, kind="adjustment", reason="bench")
        return account.id


def new_key(account_id: str) -> Key:
    from shared.accounts import create_key
    from shared.db.session import session_scope

    with session_scope() as session:
        key, secret = create_key(session, account_id, "bench")
        return Key(account_id, key.id, secret)


def running_jobs(account_id: str, count: int) -> list[str]:
    """Jobs as a worker leaves them mid-run. Nothing is queued, so no worker is needed."""
    from api.deps import get_catalog
    from shared.db.models import Job
    from shared.db.session import session_scope
    from shared.jobs import modes
    from shared.jobs.service import create_job
    from shared.settings import get_settings

    with session_scope() as session:
        ids = [create_job(session, account_id, modes.parse({"mode": "text_to_image", "prompt": f"bench {i}"}),
                          get_catalog(), get_settings()).id for i in range(count)]
        session.execute(update(Job).where(Job.id.in_(ids))
                        .values(status="running", attempts=1, started_at=func.now()))
        session.info.pop("atelier_after_commit", None)  # drop the Celery send and the "queued" events
    return ids


def complete_and_publish(publisher: redis.Redis, job_ids: list[str]) -> list[float]:
    """Commit the jobs ``completed``, then announce each as a worker does — the event carries the
    job's view, serialized in the completing transaction; returns each publish time."""
    from shared.db.models import Job
    from shared.db.session import session_scope
    from shared.jobs.events import publish_job_event
    from shared.settings import get_settings
    from shared.views import job_view

    with session_scope() as session:
        session.execute(update(Job).where(Job.id.in_(job_ids))
                        .values(status="completed", progress=100, completed_at=func.now()))
        views = {job.id: job_view(job, get_settings().base_url)
                 for job in session.scalars(select(Job).where(Job.id.in_(job_ids)))}
    published = []
    for job_id in job_ids:
        published.append(time.perf_counter())
        publish_job_event(publisher, job_id, "completed", 100, job=views[job_id])
    return published


def db_connections() -> tuple[int, int]:
    """(connections to the run's database, how many of them are in a query or a transaction),
    not counting the one asking."""
    from shared.db.session import get_engine

    with get_engine().connect() as conn:
        total, busy = conn.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE state <> 'idle') FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).one()
    return int(total), int(busy)


# The server ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


@contextmanager
def api_server(log_path: Path, app: str = "api.app:create_app", env: dict[str, str] | None = None,
               checkout: Path = ROOT) -> Iterator[Server]:
    """An ASGI app factory (by default the API) under uvicorn in a subprocess on a free loopback port,
    run from ``checkout`` (its code first on the path: another checkout serves as a baseline).

    Atelier and every bare baseline run with the same settings (``UVICORN``)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(port),
               *UVICORN]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=checkout, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})})
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120  # start-up takes long on a busy machine
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{app} did not start (exit status {process.poll()}):\n{log_path.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield Server(url, process.pid)
    finally:
        stop(process, grace=15)


def stop(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM (a graceful shutdown), then SIGKILL if it takes longer than ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


