"""Long polls (``GET /v1/jobs/{id}?wait=N``) against the real API under uvicorn: what a waiter reads
while it registers and waits, and the one response body every waiter of a job event shares."""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager

import httpx
import pytest

from api import waiting
from shared.db.session import session_scope
from shared.jobs import service
from tests.ops.test_metrics import scrape, value
from tests.support import sql_sent


def running_job(account_id: str) -> str:
    """A job as its worker leaves it mid-run; no worker is involved (nothing was queued)."""
    from api.deps import get_catalog
    from shared.db.models import Job
    from shared.jobs import modes
    from shared.settings import get_settings

    with session_scope() as session:
        job = service.create_job(session, account_id, modes.parse({"mode": "text_to_image", "prompt": "wait"}),
                                 get_catalog(), get_settings())
        session.query(Job).filter(Job.id == job.id).update({"status": "running", "attempts": 1})
        session.info.pop("atelier_after_commit", None)  # no Celery send, no "queued" event
        return job.id


def complete(job_id: str) -> None:
    """What a worker's completion commits and announces (the event carries the job's view)."""
    with session_scope() as session:
        job = service.lock_running(session, job_id)
        assert job is not None
        service.complete(session, job, [])


def progress(job_id: str, percent: int) -> None:
    with session_scope() as session:
        assert service.report_progress(session, job_id, percent)


def statements_about(job_id: str) -> AbstractContextManager[list[str]]:
    """Every SQL statement with ``job_id`` among its parameters that the server (any other thread
    than the test's) runs meanwhile."""
    test = threading.get_ident()
    return sql_sent(lambda parameters: threading.get_ident() != test and isinstance(parameters, dict)
                    and job_id in parameters.values())


def poll_in_background(url: str, headers: dict[str, str], count: int) -> tuple[list[threading.Thread],
                                                                            list[httpx.Response]]:
    answers: list[httpx.Response] = []

    def poll() -> None:
        answers.append(httpx.get(url, headers=headers, timeout=60))

    threads = [threading.Thread(target=poll) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, answers


def wait_for_waiters(client, count: int) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 30
    while value(scrape(client), "atelier_event_waiters") < count:
        assert time.monotonic() < deadline, "the long polls never registered"
        time.sleep(0.05)


def test_waiters_of_one_job_answer_one_shared_body(client, live_server, make_account, monkeypatch):
    caller = make_account()
    job_id = running_job(caller.account_id)
    rendered: list[dict] = []
    render = waiting.job_body
    monkeypatch.setattr(waiting, "job_body", lambda view: rendered.append(view) or render(view))

    with statements_about(job_id) as statements:
        threads, answers = poll_in_background(f"{live_server}/v1/jobs/{job_id}?wait=50", caller.headers, 12)
        wait_for_waiters(client, 12)
        registering = list(statements)
        complete(job_id)
        for thread in threads:
            thread.join(60)
        after = statements[len(registering):]

    plain = client.get(f"/v1/jobs/{job_id}", headers=caller.headers)
    assert [a.status_code for a in answers] == [200] * 12
    assert len({a.content for a in answers}) == 1
    # The job a plain GET answers (JSONB may order the keys of stored objects differently).
    assert answers[0].json() == plain.json()
    assert plain.json()["status"] == "completed"
    assert len(rendered) == 1  # validated and serialized once for all twelve
    # Registering read the job's status alone, one small statement, and not once per waiter when
    # an earlier waiter's read was already known (how many raced before it depends on timing).
    assert 1 <= len(registering) <= 12 and all(s.startswith("SELECT jobs.status FROM jobs") for s in registering)
    assert after == []  # woken by the completion event, no waiter read the job again


def test_a_finished_job_is_answered_at_once_in_full(client, make_account):
    caller = make_account()
    job_id = running_job(caller.account_id)
    complete(job_id)

    answer = client.get(f"/v1/jobs/{job_id}?wait=60", headers=caller.headers)

    assert answer.status_code == 200
    assert answer.content == client.get(f"/v1/jobs/{job_id}", headers=caller.headers).content  # both read it
    assert answer.json()["result"] == {"assets": []}


def test_at_the_deadline_the_job_is_answered_as_it_is_then(client, make_account):
    caller = make_account()
    job_id = running_job(caller.account_id)
    progress(job_id, 10)  # before the wait

    answer = client.get(f"/v1/jobs/{job_id}?wait=1", headers=caller.headers)

    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["progress"]) == ("running", 10)


def test_progress_during_the_wait_is_in_the_answer_at_the_deadline(client, live_server, make_account):
    caller = make_account()
    job_id = running_job(caller.account_id)
    threads, answers = poll_in_background(f"{live_server}/v1/jobs/{job_id}?wait=2", caller.headers, 1)
    wait_for_waiters(client, 1)
    progress(job_id, 40)  # an event without the job's view: the answer reads the job again
    threads[0].join(30)

    assert answers[0].status_code == 200
    assert (answers[0].json()["status"], answers[0].json()["progress"]) == ("running", 40)


@pytest.mark.parametrize("wait", ["5", "0.5"])
def test_a_foreign_or_unknown_job_is_404_without_waiting(client, make_account, wait):
    owner, other = make_account(), make_account()
    job_id = running_job(owner.account_id)

    foreign = client.get(f"/v1/jobs/{job_id}?wait={wait}", headers=other.headers)
    unknown = client.get(f"/v1/jobs/job_nosuchjob?wait={wait}", headers=owner.headers)

    assert (foreign.status_code, unknown.status_code) == (404, 404)
    assert foreign.json()["error"]["code"] == unknown.json()["error"]["code"]
