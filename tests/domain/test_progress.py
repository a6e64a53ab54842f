"""Progress reports: a heartbeat, never backwards, and the worker's cancellation signal."""

from __future__ import annotations

from api.deps import get_catalog
from shared.db.models import Job
from shared.db.session import session_scope
from shared.jobs import lifecycle, modes, service
from shared.settings import get_settings


def _running_job(account_id: str) -> str:
    with session_scope() as session:
        job = service.create_job(session, account_id, modes.parse({"mode": "text_to_video", "prompt": "p"}),
                                 get_catalog(), get_settings())
        session.info.pop("atelier_after_commit", None)  # driven by hand, no worker
        job_id = job.id
    with session_scope() as session:
        assert service.claim(session, job_id) is not None
        session.info.pop("atelier_after_commit", None)
    return job_id


def _progress(job_id: str) -> tuple[int, object]:
    with session_scope() as session:
        job = session.get(Job, job_id)
        return job.progress, job.updated_at


def test_progress_never_goes_backwards_and_a_heartbeat_keeps_it(make_account):
    caller = make_account(plan="professional", credits=500)
    job_id = _running_job(caller.account_id)
    with session_scope() as session:
        assert service.report_progress(session, job_id, 40)
    with session_scope() as session:
        assert service.report_progress(session, job_id, 20)
    assert _progress(job_id)[0] == 40
    before = _progress(job_id)[1]
    with session_scope() as session:
        assert service.report_progress(session, job_id, None)
    progress, heartbeat = _progress(job_id)
    assert progress == 40 and heartbeat > before
    with session_scope() as session:
        assert service.report_progress(session, job_id, 250)
    assert _progress(job_id)[0] == 99  # 100 is reserved for completion


def test_a_cancelled_job_reports_not_running(make_account):
    caller = make_account(plan="professional", credits=500)
    job_id = _running_job(caller.account_id)
    with session_scope() as session:
        lifecycle.cancel_job(session, caller.account_id, job_id)
        session.info.pop("atelier_after_commit", None)
    with session_scope() as session:
        assert service.report_progress(session, job_id, 50) is False
