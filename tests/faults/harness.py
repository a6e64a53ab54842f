"""A whole Atelier stack the fault tests may break: suite-owned servers, real processes.

PostgreSQL and Redis are embedded servers of this suite's own (never the machine's shared
ones), so a test may stop, kill or wipe them. Workers are real ``celery worker --pool prefork``
processes, beat is a real ``celery beat``, the API a real uvicorn; each writes its log under
the stack's directory. The lease and the sweeper's cut-offs are shortened (``LEASE``) so a
recovery takes seconds; the production defaults are in ``shared/settings.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from shared.embedded import EmbeddedPostgres, EmbeddedRedis, free_port, start_postgres, start_redis

ROOT = Path(__file__).resolve().parents[2]
#: The lease (heartbeat timeout) the fault stack runs with; heartbeats and sweeps are faster still.
LEASE = int(os.environ.get("ATELIER_FAULTS_LEASE", "10"))
MEDIA = "media.fast,media.slow"


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def family(self) -> list[psutil.Process]:
        try:
            parent = psutil.Process(self.popen.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill(self) -> None:
        """SIGKILL the process and all its children at once: a lost node."""
        for proc in self.family():
            try:
                proc.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class FaultStack:
    root: Path
    pg: EmbeddedPostgres
    redis: EmbeddedRedis
    database_url: str
    env: dict[str, str]
    procs: list[Proc] = field(default_factory=list)
    _engine: Engine | None = None

    # -- processes -------------------------------------------------------------------------

    def spawn(self, name: str, args: list[str], ready: str | None, timeout: float = 60) -> Proc:
        log = self.root / "logs" / f"{name}-{uuid.uuid4().hex[:6]}.log"
        log.parent.mkdir(exist_ok=True)
        env = {**os.environ, **self.env}
        with log.open("wb") as out:
            popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        if ready:
            wait_until(lambda: ready in proc.text() or popen.poll() is not None, timeout, f"{name} to start")
            assert popen.poll() is None, f"{name} exited:\n{proc.text()[-3000:]}"
        return proc

    def worker(self, name: str, queues: str = MEDIA, concurrency: int = 2) -> Proc:
        return self.spawn(name, [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
                                 "--pool", "prefork", "-c", str(concurrency), "-Q", queues,
                                 "-n", f"{name}-{uuid.uuid4().hex[:6]}@%h", "--loglevel", "INFO",
                                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                          ready=" ready.")

    def beat(self) -> Proc:
        return self.spawn("beat", [sys.executable, "-m", "celery", "-A", "workers.celery_app", "beat",
                                   "--loglevel", "INFO", "-s", str(self.root / f"beat-{uuid.uuid4().hex[:6]}")],
                          ready="beat: Starting")

    def api(self) -> str:
        port = free_port()
        self.spawn("api", [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
                           "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], ready=None)
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, 60, "the API")
        return url

    def dump(self, lines: int = 40) -> str:
        """The tail of every process's log, for a failed test's report."""
        return "\n".join(f"--- {p.name} ({p.log.name})\n" + "\n".join(p.text().splitlines()[-lines:])
                         for p in self.procs)

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()
        if self._engine is not None:
            self._engine.dispose()

    # -- servers ---------------------------------------------------------------------------

    def stop_postgres(self) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pg.server.pgdata, user=self.pg.server.system_user)

    def start_postgres(self) -> None:
        server = self.pg.server
        with server._lock:
            server.ensure_postgres_running()

    def restart_redis_empty(self) -> None:
        """Kill Redis (no save) and start an empty one on the same port: everything it held is gone."""
        port, old = self.redis.port, self.redis.client
        os.kill(old.pid, signal.SIGKILL)
        wait_until(lambda: not psutil.pid_exists(old.pid) or psutil.Process(old.pid).status() == "zombie",
                   10, "Redis to die")
        self.redis = start_redis(self.root / f"redis-{uuid.uuid4().hex[:6]}.db", port=port)

    # -- the database, read directly ------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.database_url, pool_pre_ping=True)
        return self._engine

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def statuses(self, job_ids: list[str]) -> dict[str, str]:
        return dict(self.rows("SELECT id, status FROM jobs WHERE id = ANY(:ids)", ids=job_ids))  # type: ignore[arg-type]

    def all_terminal(self, job_ids: list[str]) -> bool:
        found = self.statuses(job_ids)
        return len(found) == len(job_ids) and all(s in ("completed", "failed", "aborted") for s in found.values())

    def pid_running(self, job_id: str) -> int | None:
        """The process working on ``job_id``: its scratch directory is named after it."""
        for path in (self.root / "tmp").glob(f"atelier-{job_id}-*"):
            return int(path.name.split("-")[2])
        return None


@contextmanager
def fault_stack(root: Path) -> Iterator[FaultStack]:
    from shared.db.migrate import upgrade

    pg = start_postgres(root / "pg", cleanup="delete")  # the server and its data go at the end
    redis = start_redis(root / "redis.db")
    stack: FaultStack | None = None
    try:
        url = _create_database(pg.url, "atelier_faults")
        upgrade(url)
        (root / "tmp").mkdir()
        stack = FaultStack(root, pg, redis, url, stack_env(root, url, redis.url))
        try:
            yield stack
        finally:
            stack.close()
    finally:
        (stack.redis if stack else redis).stop()
        pg.stop()


def _create_database(server_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def stack_env(root: Path, database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "ATELIER_DATABASE_URL": database_url, "ATELIER_REDIS_URL": redis_url, "ATELIER_BROKER_PREFIX": "",
        "ATELIER_HOME": str(root / "home"), "ATELIER_STORAGE": "local",
        "ATELIER_STORAGE_DIR": str(root / "storage"), "ATELIER_API_URL": "http://127.0.0.1",
        "ATELIER_HEARTBEAT_TIMEOUT_SECONDS": str(LEASE),
        "ATELIER_HEARTBEAT_INTERVAL_SECONDS": str(max(1, LEASE // 5)),
        "ATELIER_SWEEP_INTERVAL_SECONDS": "1", "ATELIER_REQUEUE_AFTER_SECONDS": str(LEASE),
        "ATELIER_DB_POOL_SIZE": "2", "ATELIER_DB_MAX_OVERFLOW": "2", "TMPDIR": str(root / "tmp"),
    }
