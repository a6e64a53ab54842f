"""The worker-side steps of a job: claim, heartbeat, upstream state, complete and fail, fenced on
the attempt a worker claimed."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import update

from api.deps import get_catalog
from shared.db.models import Account, Job
from shared.db.session import session_scope
from shared.jobs import execution, modes, service
from shared.jobs.execution import UpstreamState
from shared.settings import get_settings
from tests.support import ledger_sum


def _queued_job(account_id: str, body: dict | None = None) -> str:
    with session_scope() as session:
        job = service.create_job(session, account_id, modes.parse(body or {"mode": "text_to_image", "prompt": "p"}),
                                 get_catalog(), get_settings())
        session.info.pop("atelier_after_commit", None)  # driven by hand, no worker
        return job.id


def _load(job_id: str) -> Job:
    with session_scope() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def test_a_claim_is_taken_once_and_carries_the_attempt(make_account):
    caller = make_account(credits=5)
    job_id = _queued_job(caller.account_id)
    claimed = execution.claim(job_id)
    assert claimed is not None and claimed.attempt == 1 and claimed.mode == "text_to_image"
    assert claimed.params["n"] == 1 and claimed.inputs == ()
    assert execution.claim(job_id) is None
    assert execution.heartbeat(job_id, 30) and _load(job_id).progress == 30


def test_a_superseded_attempt_can_neither_complete_nor_fail_the_job(make_account):
    caller = make_account(credits=5)
    job_id = _queued_job(caller.account_id)
    claimed = execution.claim(job_id)
    assert claimed is not None
    stale = replace(claimed, attempt=claimed.attempt - 1)
    assert execution.fail(stale, "INTERNAL_ERROR", "late") is False
    assert execution.complete(stale, []) is False
    assert execution.record_upstream(stale, UpstreamState("submitting", "fal", "fal-ai/flux/dev", tries=1)) is False
    job = _load(job_id)
    assert (job.status, job.upstream, job.held_credits) == ("running", None, 1)
    assert execution.fail(claimed, "GENERATION_FAILED", "it broke") is True
    job = _load(job_id)
    assert job.status == "failed" and job.error == {"code": "GENERATION_FAILED", "message": "it broke"}
    assert job.held_credits == 0 and ledger_sum(caller.account_id) == (5, 5)
    assert execution.fail(claimed, "GENERATION_FAILED", "again") is False


def test_upstream_state_round_trips_through_the_job_row(make_account):
    caller = make_account(credits=5)
    job_id = _queued_job(caller.account_id)
    claimed = execution.claim(job_id)
    assert claimed is not None
    submitting = UpstreamState("submitting", "fal", "fal-ai/flux/dev", tries=1)
    assert execution.record_upstream(claimed, submitting)
    assert "request_id" not in _load(job_id).upstream  # the view shows a request id only once there is one
    assert execution.load_submitted(job_id) is None
    with session_scope() as session:  # no broker send for the poll: this test has no worker
        session.execute(update(Job).where(Job.id == job_id).values(
            upstream=UpstreamState("submitted", "fal", "fal-ai/flux/dev", "req-1", {"u": 1}, tries=1).as_json()))
    loaded = execution.load_submitted(job_id)
    assert loaded is not None and loaded.job.attempt == claimed.attempt
    assert loaded.upstream.request_id == "req-1" and loaded.upstream.data == {"u": 1}
    polled = loaded.upstream.polled(error=True).polled(error=True)
    assert (polled.polls, polled.errors) == (2, 2) and polled.polled(error=False).errors == 0
    assert execution.upstream_of(job_id) == loaded.upstream
    assert UpstreamState.of(None) is None


def test_completing_settles_what_was_produced(make_account):
    caller = make_account(credits=5)
    job_id = _queued_job(caller.account_id, {"mode": "text_to_image", "prompt": "p", "n": 3})
    claimed = execution.claim(job_id)
    assert claimed is not None
    assert execution.complete(claimed, []) is True  # nothing produced: nothing charged
    job = _load(job_id)
    assert (job.status, job.credits_charged, job.held_credits) == ("completed", 0, 0)
    with session_scope() as session:
        assert session.get(Account, caller.account_id).held == 0
    assert execution.complete(claimed, []) is False
