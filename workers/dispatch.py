"""Which path a claimed job takes: rendered here, or sent upstream and polled."""

from __future__ import annotations

import logging

from shared.jobs import execution
from workers import runner, upstream

log = logging.getLogger(__name__)


def run(job_id: str) -> None:
    job = execution.claim(job_id)
    if job is None:
        log.info("job %s: nothing to claim (already taken or ended)", job_id)
        return
    if job.provider == "local":
        runner.render(job)
    else:
        upstream.begin(job)
