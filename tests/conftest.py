"""Real services for the suite.

``ATELIER_TEST_DATABASE_URL`` / ``ATELIER_TEST_REDIS_URL`` point at real servers (CI sets
them); otherwise an embedded PostgreSQL and Redis are started for the session. Each run
makes its own database (dropped at the end) and its own broker key prefix on Redis.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.embedded import scratch_database, start_postgres, start_redis


@pytest.fixture(scope="session")
def _services_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="atelier-test-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def server_database_url(_services_dir: Path) -> Iterator[str]:
    url = os.environ.get("ATELIER_TEST_DATABASE_URL")
    if url:
        yield url
        return
    pg = start_postgres(_services_dir / "pg", cleanup="delete")
    try:
        yield pg.url
    finally:
        pg.stop()


@pytest.fixture(scope="session")
def database_url(server_database_url: str) -> Iterator[str]:
    """A fresh database for this test session, dropped afterwards."""
    with scratch_database(server_database_url, "atelier_test") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(_services_dir: Path) -> Iterator[str]:
    url = os.environ.get("ATELIER_TEST_REDIS_URL")
    if url:
        yield url  # shared server: this run's keys carry its own prefix (see stack_env)
        return
    r = start_redis(_services_dir / "redis.db")
    try:
        yield r.url
    finally:
        r.stop()


# -- the application under test -------------------------------------------------------------

@pytest.fixture(scope="session")
def stack_env(database_url: str, redis_url: str, _services_dir: Path) -> Iterator[dict[str, str]]:
    """Point Atelier's settings at the test services, migrate, and reset cached clients."""
    from shared.db.migrate import upgrade

    env = {
        "ATELIER_DATABASE_URL": database_url,
        "ATELIER_REDIS_URL": redis_url,
        "ATELIER_HOME": str(_services_dir / "home"),
        "ATELIER_STORAGE": "local",
        "ATELIER_STORAGE_DIR": str(_services_dir / "storage"),
        "ATELIER_API_URL": "http://testserver",
        "ATELIER_WEBHOOK_ALLOW_PRIVATE": "true",
        # Every test signs up from one address; tests/people/test_signup_throttle.py lowers it.
        "ATELIER_SIGNUPS_PER_ADDRESS": "100000",
        # Concurrent runs on one Redis must not consume each other's tasks.
        "ATELIER_BROKER_PREFIX": f"atelier-test-{uuid.uuid4().hex[:8]}:",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    _reset_caches()
    upgrade(database_url)
    yield env
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=env["ATELIER_BROKER_PREFIX"] + "*"):
        client.delete(key)
    client.close()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    _reset_caches()


def _reset_caches() -> None:
    from api.deps import get_catalog
    from shared.db.session import reset_engine
    from shared.queue import reset_producer
    from shared.redis_client import reset_redis
    from shared.settings import reset_settings
    from shared.storage import reset_storage

    reset_settings()
    reset_engine()
    reset_redis()
    reset_producer()
    reset_storage()
    get_catalog.cache_clear()


@pytest.fixture(scope="session")
def app(stack_env: dict[str, str]):
    from api.app import create_app

    return create_app()


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def celery_worker(stack_env: dict[str, str]):
    """A real Celery worker consuming every queue from the real Redis broker, in a thread."""
    from celery.contrib.testing.worker import start_worker

    from shared.queue import QUEUES, celery_config
    from workers.celery_app import app as celery_app

    celery_app.conf.update(celery_config())
    with start_worker(celery_app, pool="threads", concurrency=1, perform_ping_check=False,
                      queues=list(QUEUES), loglevel="WARNING", shutdown_timeout=30) as worker:
        yield worker
        # Jobs tests left queued must not start while the worker and the database go away.
        celery_app.control.purge()


@pytest.fixture
def make_account(stack_env: dict[str, str]):
    """Factory: a new account (unique email) and a working API key."""
    from tests.support import create_account_with_key

    return create_account_with_key


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """The API served by a real uvicorn on a free loopback port (for concurrency tests)."""
    import threading
    import time

    import uvicorn

    from shared.embedded import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
