"""Pooled connections the server closed are replaced at checkout, without a ping per checkout."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from shared.db.session import closed_by_server, get_engine, reset_engine, session_scope


def _plain_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def _terminate(database_url: str, pids: set[int]) -> None:
    """Kill the backends server-side and wait (bounded) until they are gone."""
    # Autocommit: pg_stat_activity is a snapshot per transaction; each poll must see a fresh one.
    admin = create_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) pid"),
                     {"pids": list(pids)})
        for _ in range(200):
            alive = conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(CAST(:pids AS int[]))"),
                                {"pids": list(pids)})
            if not alive:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"backends {pids} still alive after pg_terminate_backend")
    admin.dispose()


def test_an_idle_connection_is_seen_closed_only_once_the_server_closed_it(stack_env, database_url):
    with psycopg.connect(_plain_url(database_url), autocommit=True) as live, \
            psycopg.connect(_plain_url(database_url), autocommit=True) as doomed:
        live.execute("SELECT 1")
        assert not closed_by_server(live)
        assert not closed_by_server(doomed)
        _terminate(database_url, {doomed.info.backend_pid})
        for _ in range(100):  # the goodbye travels over loopback: wait for it, bounded
            if closed_by_server(doomed):
                break
            time.sleep(0.05)
        assert closed_by_server(doomed)
        assert not closed_by_server(live)


def test_requests_after_the_server_killed_every_pooled_connection_succeed(stack_env, database_url):
    reset_engine()
    try:
        with session_scope() as first, session_scope() as second:  # two connections into the pool
            old = {first.scalar(text("SELECT pg_backend_pid()")), second.scalar(text("SELECT pg_backend_pid()"))}
        assert get_engine().pool.checkedin() == 2
        _terminate(database_url, old)

        with session_scope() as first, session_scope() as second:
            new = {first.scalar(text("SELECT pg_backend_pid()")), second.scalar(text("SELECT pg_backend_pid()"))}
        assert len(new) == 2 and not new & old
    finally:
        reset_engine()
