"""Database round trips per request on the hot paths: a count, so it does not vary with load.

    python -m bench.hotpaths.roundtrips

Runs the API in process (FastAPI's TestClient, real PostgreSQL and Redis as in ``bench.hotpaths``)
and counts, per request, what the engine sends: pings (``pool_pre_ping``), BEGINs, statements and
COMMIT/ROLLBACKs (psycopg sends each as its own round trip), and pool checkouts (sessions).
The bare baselines do 3 (P1: BEGIN, INSERT, COMMIT) and 4 (P2: BEGIN, key SELECT, job SELECT, COMMIT).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import event

from bench.hotpaths.requests import JOB_BODY
from bench.hotpaths.stack import Stack, stack


def _instrument(counts: Counter[str]) -> None:
    from shared.db.session import get_engine

    engine = get_engine()
    event.listen(engine.pool, "checkout", lambda *_: counts.update(["checkout"]))
    for name in ("begin", "commit", "rollback"):
        # On an autocommit connection these are SQLAlchemy's bookkeeping: psycopg sends nothing.
        event.listen(engine, name, lambda conn, *_, name=name: None if conn.connection.dbapi_connection.autocommit
                     else counts.update([name]))
    event.listen(engine, "before_cursor_execute", lambda *_: counts.update(["statement"]))
    ping = engine.dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        counts.update(["ping"])
        return bool(ping(dbapi_connection))

    engine.dialect.do_ping = counted_ping  # type: ignore[method-assign]


def measure(run: Stack) -> dict[str, Counter[str]]:
    from fastapi.testclient import TestClient

    from api.app import create_app

    counts: Counter[str] = Counter()
    _instrument(counts)
    headers, found = run.key.headers, {}
    with TestClient(create_app()) as client:
        job_id = client.post("/v1/jobs", json=JOB_BODY, headers=headers).json()["id"]
        calls = {"POST /v1/jobs": lambda: client.post("/v1/jobs", json=JOB_BODY, headers=headers),
                 "GET /v1/jobs/{id}": lambda: client.get(f"/v1/jobs/{job_id}", headers=headers),
                 "GET /v1/account": lambda: client.get("/v1/account", headers=headers)}
        for label, call in calls.items():
            call()  # first use: caches, the key's last-used stamp
            counts.clear()
            response = call()
            if response.status_code >= 300:
                raise RuntimeError(f"{label}: {response.status_code} {response.text[:300]}")
            found[label] = Counter(counts)
    return found


def main() -> None:
    with stack() as run:
        found = measure(run)
    print("| request | round trips | pings | BEGIN | statements | COMMIT/ROLLBACK | checkouts |\n"
          "|---|---|---|---|---|---|---|")
    for label, c in found.items():
        trips = c["ping"] + c["begin"] + c["statement"] + c["commit"] + c["rollback"]
        print(f"| {label} | {trips} | {c['ping']} | {c['begin']} | {c['statement']} | "
              f"{c['commit'] + c['rollback']} | {c['checkout']} |")
    print("rerun: python -m bench.hotpaths.roundtrips")


if __name__ == "__main__":
    main()
