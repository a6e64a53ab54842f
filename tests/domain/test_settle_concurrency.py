"""Completing many jobs of one account at once: no deadlock, every job settled once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from api.deps import get_catalog
from shared.db.models import Asset, Job
from shared.db.session import session_scope
from shared.ids import new_id
from shared.jobs import modes, service
from shared.settings import get_settings
from tests.support import ledger_sum

JOBS = 50


def _claimed_jobs(account_id: str, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        with session_scope() as session:
            job = service.create_job(session, account_id, modes.parse({"mode": "text_to_image", "prompt": "p"}),
                                     get_catalog(), get_settings())
            session.info.pop("atelier_after_commit", None)  # driven by hand, no worker
            ids.append(job.id)
        with session_scope() as session:
            assert service.claim(session, job.id) is not None
            session.info.pop("atelier_after_commit", None)
    return ids


def _image_for(job_id: str, account_id: str) -> Asset:
    asset_id = new_id("ast")
    return Asset(id=asset_id, account_id=account_id, kind="image", content_type="image/png", bytes=10,
                 sha256="0" * 64, width=8, height=8, duration_seconds=None, source="generated", job_id=job_id,
                 filename="r.png", storage_key=f"accounts/{account_id}/assets/{asset_id}/r.png")


def test_fifty_completions_of_one_account_never_deadlock(make_account):
    caller = make_account(plan="professional", credits=500)
    job_ids = _claimed_jobs(caller.account_id, JOBS)
    start = threading.Barrier(JOBS)

    def complete(job_id: str) -> None:
        start.wait(timeout=30)
        with session_scope() as session:
            row = service.lock_running(session, job_id)
            assert row is not None
            service.complete(session, row, [_image_for(job_id, caller.account_id)])
            session.info.pop("atelier_after_commit", None)

    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        for future in [pool.submit(complete, job_id) for job_id in job_ids]:
            future.result(timeout=120)  # a deadlock would surface here as DeadlockDetected

    with session_scope() as session:
        jobs = [session.get(Job, job_id) for job_id in job_ids]
        assert {j.status for j in jobs} == {"completed"}
        assert sum(j.credits_charged for j in jobs) == JOBS
    total, balance = ledger_sum(caller.account_id)
    assert total == balance == 500 - JOBS
