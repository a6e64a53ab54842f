"""Jobs served by upstream providers, without pinning a worker slot while they run.

``begin`` hands a claimed job to the ``jobs.submit`` task (or fails it at once when its model
is gone). ``submit`` makes one submit call; a retryable failure (429, 5xx, timeouts) is
raised to Celery, which runs the task again with exponential back-off and jitter
(``workers.tasks.jobs``); after the last try the next fallback model gets its own tries.
Once accepted, ``jobs.poll`` checks the status once per task and, while the job is pending,
schedules the next check a few seconds later — far below the broker's visibility timeout.
Once the upstream has accepted a job it is never submitted again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared import queue
from shared.catalog import ModelSpec, get_catalog
from shared.jobs import execution, modes
from shared.jobs.execution import ClaimedJob, UpstreamState
from workers import scratch
from workers.context import WorkerContext
from workers.heartbeat import heartbeat
from workers.providers import registry
from workers.providers.base import GenerationFailed, PollResult, UpstreamHandle, UpstreamUnavailable
from workers.runner import build_request, failures_end_the_job, fetch_inputs, finish

log = logging.getLogger(__name__)

#: Submit calls per model before its fallback is tried (the task's ``max_retries`` + 1).
SUBMIT_ATTEMPTS = 3
MAX_POLL_ERRORS = 5
#: An upstream job still pending this long after it started is given up.
UPSTREAM_DEADLINE = timedelta(hours=1)


def _chain(job: ClaimedJob) -> list[ModelSpec]:
    catalog = get_catalog()
    primary = catalog.get(job.model)
    return [primary, *catalog.fallbacks(primary, job.params)] if primary is not None else []


def send_submit(job: ClaimedJob, index: int) -> None:
    queue.send(queue.SUBMIT_JOB, [job.id, job.attempt, index], modes.spec_for(job.mode).queue)


def begin(job: ClaimedJob) -> None:
    """After the claim: a job whose model is no longer in the catalog fails now, with a clear
    code, instead of running on until the sweeper gives it up."""
    if not _chain(job):
        execution.fail(job, "MODEL_UNAVAILABLE", f"Model {job.model} is no longer available.")
        return
    send_submit(job, 0)


def _submit_once(job: ClaimedJob, spec: ModelSpec, tries: int, workdir: Path) -> None:
    # Marked first: a worker lost mid-submit leaves "submitting", which the sweeper fails
    # rather than risk a second upstream job.
    submitting = UpstreamState("submitting", spec.provider, spec.id, tries=tries)
    if not execution.record_upstream(job, submitting):
        return  # cancelled meanwhile
    request = build_request(job, get_catalog(), fetch_inputs(job, workdir, signed_urls=True), spec.id)
    handle = registry.upstream_provider(spec.provider).submit(request)
    execution.record_upstream(job, UpstreamState("submitted", spec.provider, spec.id, handle.request_id,
                                                 handle.data, tries=tries))
    log.info("job %s submitted to %s as %s", job.id, spec.provider, handle.request_id)


def _already_tried(state: UpstreamState | None, spec: ModelSpec, tries: int) -> bool:
    """Accepted already, or this very try ran before (a redelivery after a lost worker)."""
    return state is not None and (state.submitted or (state.model == spec.id and state.tries >= tries))


def submit(job_id: str, attempt: int, index: int, *, tries: int, last_try: bool) -> None:
    """One submit call to the ``index``-th model of the job's chain.

    Raises ``UpstreamUnavailable`` for Celery to retry unless this is the model's last try;
    then the next fallback is sent, or, with none left, the job fails.
    """
    loaded = execution.load_running(job_id)
    chain = _chain(loaded[0]) if loaded else []
    if loaded is None or loaded[0].attempt != attempt or index >= len(chain) \
            or _already_tried(loaded[1], chain[index], tries):
        return
    job, spec = loaded[0], chain[index]
    error: UpstreamUnavailable | None = None
    with scratch.job_dir(job.id) as workdir, heartbeat(job.id, job.attempt), failures_end_the_job(job):
        try:
            _submit_once(job, spec, tries, workdir)
        except UpstreamUnavailable as exc:
            log.warning("job %s: %s submit try %d failed: %s", job.id, spec.id, tries, exc.message)
            error = exc
    if error is None:
        return
    if not last_try:
        raise error
    if index + 1 < len(chain):
        send_submit(job, index + 1)
        return
    execution.fail(job, error.code, f"No provider accepted the job after retries and fallbacks: {error.message}")


def poll(job_id: str, *, reschedule: bool = True) -> None:
    """One status check of a submitted job; completes, fails or schedules the next check."""
    loaded = execution.load_submitted(job_id)
    if loaded is None:
        return
    job, state = loaded.job, loaded.upstream
    handle = UpstreamHandle(state.provider, state.request_id or "", state.data)
    provider = registry.upstream_provider(handle.provider)
    with scratch.job_dir(job_id) as workdir, heartbeat(job_id, job.attempt), failures_end_the_job(job):
        ctx = WorkerContext(job_id, workdir, job.attempt)
        if getattr(provider, "inputs_at_poll", False):
            # Its paid call is made here, with the inputs, which the submit's scratch no longer holds.
            fetch_inputs(job, workdir)
        try:
            result = provider.poll(handle, ctx)
        except UpstreamUnavailable as exc:
            if state.errors + 1 >= MAX_POLL_ERRORS:
                raise
            log.warning("job %s: status check failed (%s); will retry", job_id, exc.message)
            if reschedule:
                execution.record_upstream(job, state.polled(error=True))
            return
        if result.state == "completed":
            finish(job, result.outputs)
        elif result.state == "failed":
            raise result.error or GenerationFailed("The provider reported a failure.")
        else:
            _pending(loaded, handle, result, ctx)
            if reschedule:
                execution.record_upstream(job, state.polled(error=False))


def _pending(loaded: execution.SubmittedJob, handle: UpstreamHandle, result: PollResult,
             ctx: WorkerContext) -> None:
    if loaded.started_at and datetime.now(UTC) - loaded.started_at > UPSTREAM_DEADLINE:
        registry.upstream_provider(handle.provider).cancel(handle)
        raise GenerationFailed(f"The provider did not finish within {UPSTREAM_DEADLINE}.")
    if result.progress is not None:
        ctx.progress(result.progress)
    else:
        ctx.check_cancelled()


def cancel(job_id: str) -> None:
    """Propagate a cancel to the provider (best effort: the job is already aborted here)."""
    state = execution.upstream_of(job_id)
    if state is None or not state.submitted:
        return
    handle = UpstreamHandle(state.provider, state.request_id or "", state.data)
    registry.upstream_provider(handle.provider).cancel(handle)
