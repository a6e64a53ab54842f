"""Job, queue, credit, webhook and waiter metrics on the API's /metrics (worker in this process)."""

from __future__ import annotations

import threading

from prometheus_client.parser import text_string_to_metric_families

from tests.support import wait_for_job


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


def test_a_completed_job_shows_in_the_job_metrics(client, celery_worker, make_account):
    caller = make_account()
    before = scrape(client)
    created = client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "metrics", "n": 2},
                          headers=caller.headers).json()
    job = wait_for_job(client, caller, created["id"])
    assert job["status"] == "completed"
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("atelier_jobs_total", mode="text_to_image", status="queued", provider="local") == 1
    assert delta("atelier_jobs_total", mode="text_to_image", status="running") == 1
    assert delta("atelier_jobs_total", mode="text_to_image", status="completed") == 1
    assert delta("atelier_job_run_seconds_count", mode="text_to_image") == 1
    assert delta("atelier_job_wait_seconds_count", mode="text_to_image") == 1
    assert delta("atelier_credits_held_total", mode="text_to_image") == 2
    assert delta("atelier_credits_charged_total", mode="text_to_image") == 2
    for queue in ("media.fast", "media.slow", "webhooks", "maintenance"):
        assert ("atelier_queue_depth", (("queue", queue),)) in after
    assert ("atelier_webhook_backlog", (("state", "due"),)) in after


def test_queue_depth_reads_the_broker_lists(client, stack_env, monkeypatch):
    """A queue no worker consumes: three waiting messages show as a depth of 3."""
    from shared import queue
    from shared.redis_client import get_redis

    monkeypatch.setattr(queue, "QUEUES", (*queue.QUEUES, "metrics-test"))
    key = stack_env["ATELIER_BROKER_PREFIX"] + "metrics-test"
    get_redis().rpush(key, "a", "b", "c")
    try:
        assert value(scrape(client), "atelier_queue_depth", queue="metrics-test") == 3
    finally:
        get_redis().delete(key)


def test_waiting_long_polls_are_gauged(client, live_server, celery_worker, make_account):
    import time

    import httpx

    caller = make_account()
    job = client.post("/v1/jobs", json={"mode": "text_to_video", "prompt": "slow", "duration_seconds": 10},
                      headers=caller.headers).json()
    answers: list[dict] = []
    poller = threading.Thread(target=lambda: answers.append(httpx.get(
        f"{live_server}/v1/jobs/{job['id']}?wait=30", headers=caller.headers, timeout=40).json()))
    poller.start()
    deadline = time.monotonic() + 10
    while value(scrape(client), "atelier_event_waiters") < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert value(scrape(client), "atelier_event_waiters") >= 1
    client.post(f"/v1/jobs/{job['id']}/cancel", headers=caller.headers)
    poller.join(20)
    assert answers[0]["status"] == "aborted"
    assert value(scrape(client), "atelier_event_waiters") == 0


def test_dashboard_and_alerts_use_only_exported_metrics(client, celery_worker):
    """Every atelier_* series the Grafana dashboard and the alert rules query is one we export."""
    import json
    import re
    from pathlib import Path

    import yaml
    from prometheus_client import REGISTRY

    root = Path(__file__).parents[2] / "deploy"
    exprs = [t["expr"] for p in json.loads((root / "grafana" / "atelier.json").read_text())["panels"]
             for t in p["targets"]]
    exprs += [r["expr"] for g in yaml.safe_load((root / "prometheus-rules.yml").read_text())["groups"]
              for r in g["rules"]]
    used = {name for expr in exprs for name in re.findall(r"\batelier_\w+", expr)}
    scrape(client)  # the API's collectors are registered
    suffix = {"counter": "_total", "histogram": "_bucket", "gauge": ""}
    exported = {f.name + suffix.get(f.type, "") for f in REGISTRY.collect()}
    assert used and used <= exported, used - exported


def test_one_timing_feeds_the_request_metrics_and_the_access_log(client, caplog):
    """Each request is timed once: its histogram observation and its access log line's duration are
    the same measurement; an unknown route is counted as "unmatched" and logged by its path."""
    import logging

    caplog.set_level(logging.INFO, logger="atelier.access")
    for path, route, status in (("/healthz", "/healthz", 200), ("/no/such/route", "unmatched", 404)):
        before = scrape(client)
        assert client.get(path, headers={"X-Request-ID": f"timed-{status}"}).status_code == status
        after = scrape(client)
        labels = {"method": "GET", "route": route}
        assert value(after, "atelier_http_requests_total", status=str(status), **labels) \
            - value(before, "atelier_http_requests_total", status=str(status), **labels) == 1
        assert value(after, "atelier_http_request_seconds_count", **labels) \
            - value(before, "atelier_http_request_seconds_count", **labels) == 1
        seconds = value(after, "atelier_http_request_seconds_sum", **labels) \
            - value(before, "atelier_http_request_seconds_sum", **labels)
        (line,) = [r for r in caplog.records if getattr(r, "request_id", None) == f"timed-{status}"]
        assert line.route == path and line.status == status
        assert abs(line.duration_ms - seconds * 1000) <= 0.05 + 1e-6  # rounded to 0.1 ms
