"""The lease of a running job, refreshed from a background thread while the job is worked on.

A provider may go quiet for long stretches (one slow encode, one blocking upstream call), so
progress reports alone cannot prove the worker is alive. Every
``ATELIER_HEARTBEAT_INTERVAL_SECONDS`` this thread touches the job's ``updated_at``; once a
worker dies it stops, and after ``ATELIER_HEARTBEAT_TIMEOUT_SECONDS`` (the lease) another
worker may take the job over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from shared.jobs import execution
from shared.settings import get_settings

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, job_id: str, interval: float, attempt: int | None = None) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.interval = interval
        #: Set once the job is no longer ours to run (cancelled, or taken over after a lost lease).
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def beat(self) -> None:
        if not execution.heartbeat(self.job_id, attempt=self.attempt):
            self.lost.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval) and not self.lost.is_set():
            try:
                self.beat()
            except Exception as exc:  # the database is away: keep trying; the lease tells the rest
                log.warning("job %s: heartbeat failed (%s)", self.job_id, type(exc).__name__)


@contextmanager
def heartbeat(job_id: str, attempt: int | None = None) -> Iterator[Heartbeat]:
    beating = Heartbeat(job_id, get_settings().heartbeat_interval_seconds, attempt)
    beating.start()
    try:
        yield beating
    finally:
        beating.stop()
