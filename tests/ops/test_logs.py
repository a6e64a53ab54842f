"""Structured logs: request id, account id, job id and task id from the API into the worker."""

from __future__ import annotations

import json
import logging

from shared import logs
from tests.support import wait_for_job


def test_request_id_is_echoed_and_on_the_requests_log_lines(client, make_account, caplog):
    caller = make_account()
    caplog.set_level(logging.INFO, logger="atelier.access")
    response = client.get("/v1/account?api_key=" + caller.key, headers={"X-Request-ID": "trace-1.a"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "trace-1.a"
    (line,) = [r for r in caplog.records if r.name == "atelier.access" and r.request_id == "trace-1.a"]
    assert line.account_id == caller.account_id and line.status == 200 and line.route == "/v1/account"
    assert caller.key not in line.getMessage()
    odd = client.get("/healthz", headers={"X-Request-ID": "not a sane id; <script>"})
    assert odd.headers["x-request-id"].startswith("req_")


def test_ids_travel_from_the_api_into_the_worker(client, celery_worker, make_account, caplog):
    caller = make_account()
    caplog.set_level(logging.INFO, logger="atelier.tasks")
    created = client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "traced"},
                          headers={**caller.headers, "X-Request-ID": "trace-job-1"}).json()
    assert wait_for_job(client, caller, created["id"])["status"] == "completed"
    started = [r for r in caplog.records if r.name == "atelier.tasks" and r.getMessage() == "task jobs.run started"
               and r.job_id == created["id"]]
    assert started, [r.getMessage() for r in caplog.records]
    record = started[0]
    assert (record.request_id, record.account_id) == ("trace-job-1", caller.account_id)
    assert record.task_id and record.task_id != record.request_id


def test_a_task_sent_from_a_task_logs_with_its_own_task_id(stack_env):
    from types import SimpleNamespace

    from workers.celery_app import _task_log_context

    carried = {"request_id": "r1", "task_id": "sender"}  # what a task sent from another task carries
    task = SimpleNamespace(name="jobs.poll", request=SimpleNamespace(**{logs.HEADER: carried}))
    try:
        _task_log_context(task_id="own", task=task, args=["job_1"])
        assert logs.current() == {"request_id": "r1", "task_id": "own", "job_id": "job_1"}
    finally:
        logs.enter()


def test_json_and_text_formats():
    with logs.scope(request_id="r1", account_id="acc_1"):
        logs.bind(job_id="job_1")
        record = logging.getLogger("atelier.test").makeRecord("atelier.test", logging.WARNING, __file__, 1,
                                                              "hello %s", ("world",), None)
    line = json.loads(logs.formatter("json").format(record))
    assert (line["message"], line["level"], line["logger"]) == ("hello world", "WARNING", "atelier.test")
    assert (line["request_id"], line["account_id"], line["job_id"], line["task_id"]) == ("r1", "acc_1", "job_1",
                                                                                         None)
    text = logs.formatter("text").format(record)
    assert text.endswith("hello world [request_id=r1 account_id=acc_1 job_id=job_1]")
    assert logs.current() == {}
