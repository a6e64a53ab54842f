"""Client-driven endings: cancel and delete."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from shared import assets, queue
from shared.credits import ledger
from shared.db.models import Asset, Job, JobInput
from shared.errors import JobNotCancelable, JobRunning
from shared.jobs import events, modes
from shared.jobs.service import get_job, is_terminal
from shared.storage.base import Storage


def cancel_job(session: Session, account_id: str, job_id: str) -> Job:
    """queued or running → aborted, hold released, nothing charged.

    The row lock serialises this with the worker's completion: whichever commits first wins,
    and the other sees a status it may not change. A running worker notices at its next
    progress report and stops without writing results.
    """
    job = get_job(session, account_id, job_id, lock=True)
    if is_terminal(job):
        raise JobNotCancelable(f"Job {job_id} is {job.status} and can no longer be cancelled.",
                               details={"status": job.status})
    ledger.release(session, job.account_id, job.id, job.held_credits, reason="job aborted")
    job.status = "aborted"
    job.held_credits = 0
    job.completed_at = job.updated_at = datetime.now(UTC)
    session.flush()
    if job.upstream:
        queue.send_after_commit(session, queue.CANCEL_UPSTREAM, [job.id], modes.spec_for(job.mode).queue)
    events.transition(session, job)
    return job


def delete_job(session: Session, storage: Storage, account_id: str, job_id: str) -> None:
    """Delete a queued or finished job with its results and the inputs no other job uses.

    Credits already charged stay charged; a queued job's hold is released.
    """
    job = get_job(session, account_id, job_id, lock=True)
    if job.status == "running":
        raise JobRunning(f"Job {job_id} is running; cancel it first.")
    if job.status == "queued":
        ledger.release(session, job.account_id, job.id, job.held_credits, reason="job deleted")
    input_ids = [link.asset_id for link in job.input_links]
    unshared = session.scalars(select(Asset).where(
        Asset.id.in_(input_ids),
        ~exists().where(JobInput.asset_id == Asset.id, JobInput.job_id != job.id),
    )).all() if input_ids else []
    assets.remove(session, storage, list(job.results) + list(unshared))
    session.execute(delete(Job).where(Job.id == job.id))  # job_inputs and deliveries cascade
    session.expunge(job)
