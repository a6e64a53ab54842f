"""Engines and sessions. The boundary (request dependency, task wrapper) owns the transaction:
domain functions only ``flush``; ``session_scope`` commits or rolls back.

Work that must only happen once the transaction is durable — publishing a Celery task,
a job event — is registered with ``after_commit(session, fn)`` and runs after a successful
commit; a rollback drops it.
"""

from __future__ import annotations

import logging
import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from psycopg import pq
from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from shared.settings import get_settings

log = logging.getLogger(__name__)

_CALLBACKS = "atelier_after_commit"
_ROLLBACK_CALLBACKS = "atelier_after_rollback"
#: Connections older than this are replaced at checkout: bounds how long a connection a server or
#: a middlebox dropped silently (no FIN, so the check below cannot see it) stays in the pool.
POOL_RECYCLE_SECONDS = 1800


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    engine = create_engine(
        settings.require_database_url(),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=10,
        pool_recycle=POOL_RECYCLE_SECONDS,
        connect_args={"connect_timeout": 10},
    )
    event.listen(engine, "checkout", _refuse_closed)
    return engine


def closed_by_server(dbapi_connection: Any) -> bool:
    """Whether an idle pooled psycopg connection was closed by the server (restart, failover,
    ``pg_terminate_backend``), without a round trip: the server's goodbye (an error message and
    the end of the stream) is waiting on the socket, where an idle connection has nothing to read."""
    pgconn = dbapi_connection.pgconn
    if pgconn.status != pq.ConnStatus.OK:
        return True
    poller = select.poll()  # unlike select.select, any descriptor number
    poller.register(pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _refuse_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    # Instead of pool_pre_ping's SELECT 1 per checkout: the pool discards a connection refused here
    # and checks out another (a new one after a restart), so the request never sees the dead one.
    if closed_by_server(dbapi_connection):
        raise exc.DisconnectionError("the server closed this pooled connection")


@lru_cache
def _sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@lru_cache
def _autocommit_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine().execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)


def reset_engine() -> None:
    """Drop the cached engine (tests, and forked worker processes)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    _sessionmaker.cache_clear()
    _autocommit_sessionmaker.cache_clear()


def new_session() -> Session:
    return _sessionmaker()()


def new_autocommit_session() -> Session:
    """A session whose statements each commit on their own (no BEGIN, and ``commit`` sends
    nothing): for a request that only reads, one round trip per statement."""
    return _autocommit_sessionmaker()()


@contextmanager
def autocommit_connection() -> Iterator[Connection]:
    """A pooled connection whose statements each commit on their own: one round trip for a
    single read, without the BEGIN and COMMIT a session's transaction adds."""
    with get_engine().connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def after_commit(session: Session, fn: Callable[[], object]) -> None:
    session.info.setdefault(_CALLBACKS, []).append(fn)


def after_rollback(session: Session, fn: Callable[[], object]) -> None:
    """Undo a side effect outside the database (a stored object) if the transaction fails."""
    session.info.setdefault(_ROLLBACK_CALLBACKS, []).append(fn)


def _run(callbacks: list[Callable[[], object]], what: str) -> None:
    for fn in callbacks:
        try:
            fn()
        except Exception:  # the transaction outcome stands; the sweeper repairs what is left
            log.exception("%s callback failed", what)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    session.info.pop(_ROLLBACK_CALLBACKS, None)
    _run(session.info.pop(_CALLBACKS, []), "after-commit")


@event.listens_for(Session, "after_rollback")
def _run_after_rollback(session: Session) -> None:
    session.info.pop(_CALLBACKS, None)
    _run(session.info.pop(_ROLLBACK_CALLBACKS, []), "after-rollback")


@contextmanager
def session_scope() -> Iterator[Session]:
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
