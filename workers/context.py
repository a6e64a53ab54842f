"""The ``JobContext`` a provider sees: progress reporting that doubles as the cancellation check."""

from __future__ import annotations

import time
from pathlib import Path

from shared.jobs import execution
from workers.providers.base import JobAborted

#: Progress is written at most this often; every write also checks for cancellation.
MIN_INTERVAL = 0.5


class WorkerContext:
    def __init__(self, job_id: str, workdir: Path, attempt: int | None = None) -> None:
        self.job_id = job_id
        self.workdir = workdir
        #: The claimed attempt: once another worker took the job over, this one stops.
        self.attempt = attempt
        # The claim has just written the job (and found it running): the first progress write and
        # cancellation check are due one interval from now, so a short job makes none.
        self._last_write = time.monotonic()
        self._last_percent = -1

    def progress(self, percent: float) -> None:
        value = int(max(0, min(percent, 99)))
        now = time.monotonic()
        if value == self._last_percent or now - self._last_write < MIN_INTERVAL:
            return
        self._last_write, self._last_percent = now, value
        if not execution.heartbeat(self.job_id, value, self.attempt):
            raise JobAborted(self.job_id)

    def check_cancelled(self) -> None:
        now = time.monotonic()
        if now - self._last_write < MIN_INTERVAL:
            return
        self._last_write = now
        if not execution.heartbeat(self.job_id, attempt=self.attempt):
            raise JobAborted(self.job_id)
