"""The hot request path: the key checked on a connection given back before the route's own,
pooled connections the server killed replaced without a ping, no pool starvation under many
concurrent requests, bounded metric labels."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest
from sqlalchemy import event, text

from shared.db.session import get_engine, reset_engine, session_scope
from tests.domain.test_db_session import _terminate

#: Above the pool (5 + 10 overflow) and the server's 40 worker threads together.
CONCURRENT = 64
JOB = {"mode": "text_to_image", "prompt": "a lighthouse", "size": "512x512"}


@pytest.fixture
def checkouts():
    """Pool checkouts ("out") and checkins ("in") by the API's worker threads while the test runs;
    the in-process Celery worker, which may run the submitted job, is not counted."""
    seen: list[str] = []
    pool = get_engine().pool

    def listener(kind: str):  # noqa: ANN202
        def record(*_: object) -> None:
            if threading.current_thread().name.startswith("AnyIO worker thread"):
                seen.append(kind)
        return record

    on_out, on_in = listener("out"), listener("in")
    event.listen(pool, "checkout", on_out)
    event.listen(pool, "checkin", on_in)
    yield seen
    event.remove(pool, "checkout", on_out)
    event.remove(pool, "checkin", on_in)


@contextmanager
def statements() -> Iterator[list[tuple[str, bool]]]:
    """The API's statements meanwhile, each with whether it ran inside a transaction block."""
    seen: list[tuple[str, bool]] = []

    def listener(conn, _cursor, statement, *_: object) -> None:
        if threading.current_thread().name.startswith("AnyIO worker thread"):
            status = conn.connection.dbapi_connection.info.transaction_status
            seen.append((statement, status != psycopg.pq.TransactionStatus.IDLE))

    event.listen(get_engine(), "after_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(get_engine(), "after_cursor_execute", listener)


def test_a_key_is_checked_on_a_connection_given_back_before_the_route_takes_its_own(client, make_account,
                                                                                    checkouts):
    caller = make_account()
    checkouts.clear()
    created = client.post("/v1/jobs", json=JOB, headers=caller.headers)
    assert created.status_code == 202, created.text
    assert checkouts == ["out", "in", "out", "in"]  # no connection held across a thread hop
    assert created.headers["X-Credits-Used"] == str(created.json()["estimated_credits"])
    with session_scope() as session:  # the credits header is the capacity after the hold
        from shared.credits import ledger

        assert created.headers["X-Credits-Remaining"] == str(max(0, ledger.available(session, caller.account_id)))

    # A job that is not completed (whatever the in-process worker did with it meanwhile): its read
    # has no results to load.
    with session_scope() as session:
        session.execute(text("UPDATE jobs SET status = 'failed' WHERE id = :id"), {"id": created.json()["id"]})
    checkouts.clear()
    with statements() as seen:
        read = client.get(f"/v1/jobs/{created.json()['id']}", headers=caller.headers)
    assert read.status_code == 200 and read.json()["status"] == "failed" and read.json()["result"] is None
    assert checkouts == ["out", "in", "out", "in"]
    # The key check and the job read, each on its own: no BEGIN or COMMIT around two reads.
    assert [(stmt.split()[0], in_transaction) for stmt, in_transaction in seen] == [("SELECT", False)] * 2

    checkouts.clear()
    missing = client.get("/v1/jobs/job_nope", headers=caller.headers)
    assert missing.status_code == 404 and checkouts == ["out", "in", "out", "in"]
    assert client.get("/v1/jobs/job_nope", headers={"Authorization": "Bearer at_live_nope"}).status_code == 401


def test_many_concurrent_reads_never_starve_the_pool(client, live_server, make_account):
    """More concurrent GETs than the pool has connections and the server has worker threads: a
    request holding a connection while it waited for its next thread once made every thread wait
    on a checkout until the pool timed out (500s)."""
    caller = make_account(plan="professional")  # 120 requests a minute: most of these get through
    job_id = client.post("/v1/jobs", json=JOB, headers=caller.headers).json()["id"]

    async def read_all() -> list[int]:
        limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=CONCURRENT)
        async with httpx.AsyncClient(base_url=live_server, headers=caller.headers, limits=limits,
                                     timeout=60) as http:
            answers = await asyncio.gather(*(http.get(f"/v1/jobs/{job_id}") for _ in range(CONCURRENT * 2)))
        return [answer.status_code for answer in answers]

    statuses = asyncio.run(read_all())
    assert set(statuses) <= {200, 429} and statuses.count(200) >= CONCURRENT, sorted(set(statuses))


def test_requests_succeed_after_the_server_killed_every_pooled_connection(client, make_account, database_url):
    caller = make_account()
    reset_engine()
    try:
        with session_scope() as first, session_scope() as second:  # two connections into the pool
            old = {first.scalar(text("SELECT pg_backend_pid()")), second.scalar(text("SELECT pg_backend_pid()"))}
        _terminate(database_url, old)

        created = client.post("/v1/jobs", json=JOB, headers=caller.headers)
        assert created.status_code == 202, created.text
        read = client.get(f"/v1/jobs/{created.json()['id']}", headers=caller.headers)
        assert read.status_code == 200, read.text
        with session_scope() as session:
            assert session.scalar(text("SELECT pg_backend_pid()")) not in old
    finally:
        reset_engine()


def test_request_metrics_count_unknown_methods_as_other(client, make_account):
    caller = make_account()
    assert client.request("PROPFIND", "/v1/jobs", headers=caller.headers).status_code == 405
    client.get("/v1/jobs", headers=caller.headers)
    exposed = client.get("/metrics").text
    assert "PROPFIND" not in exposed
    assert re.search(r'atelier_http_requests_total\{method="OTHER",route="/v1/jobs",status="405"\} [1-9]', exposed)
    assert re.search(r'atelier_http_requests_total\{method="GET",route="/v1/jobs",status="200"\} [1-9]', exposed)
