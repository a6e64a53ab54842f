"""Cancel, delete and job events (SSE), with a controllable provider inside the real worker."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from shared.db.models import Asset
from shared.db.session import session_scope
from shared.storage import get_storage
from tests.media_samples import png_bytes
from tests.support import ledger_sum, wait_for_job
from workers.providers import registry
from workers.providers.base import Output


class GatedProvider:
    """For prompts starting with "gated": reports progress every 50 ms until ``release`` is set
    (or ``steps`` ran), then makes a PNG. Other jobs (left queued by earlier tests) finish at once."""

    name = "local"

    def __init__(self, steps: int = 600) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.stopped = threading.Event()
        self.steps = steps

    def generate(self, request, ctx):
        if not (request.prompt or "").startswith("gated"):
            return self._image(ctx)
        self.started.set()
        try:
            for step in range(self.steps):
                ctx.progress(min(95, step * 5))
                if self.release.wait(0.05):
                    break
            return self._image(ctx)
        finally:
            self.stopped.set()

    @staticmethod
    def _image(ctx) -> list[Output]:
        path = Path(ctx.workdir) / "out.png"
        Image.new("RGB", (32, 32), (1, 2, 3)).save(path)
        return [Output(path, "image/png", "image")]


@pytest.fixture
def gated(monkeypatch):
    provider = GatedProvider()
    monkeypatch.setattr(registry, "local_provider", lambda name="local": provider)
    yield provider
    provider.release.set()


def submit(client, caller, **body):
    response = client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "gated", **body},
                           headers=caller.headers)
    assert response.status_code == 202, response.text
    return response.json()


def wait_status(job_id: str, status: str, timeout: float = 30.0) -> None:
    """Watch the job row itself (polling the API this fast would trip the rate limit)."""
    from shared.db.models import Job

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as session:
            if session.get(Job, job_id).status == status:
                return
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {status}")


def account_objects(account_id: str) -> list[Path]:
    root = get_storage().root / "accounts" / account_id  # type: ignore[attr-defined]
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_cancel_a_queued_job(client, make_account, monkeypatch):
    from shared import queue

    caller = make_account(credits=5)
    monkeypatch.setattr(queue, "send", lambda *a, **k: None)  # the task is "lost": stays queued
    job = submit(client, caller)
    monkeypatch.undo()
    response = client.post(f"/v1/jobs/{job['id']}/cancel", headers=caller.headers)
    assert response.status_code == 200 and response.json()["status"] == "aborted"
    account = client.get("/v1/account", headers=caller.headers).json()["credits"]
    assert (account["balance"], account["held"]) == (5, 0)
    again = client.post(f"/v1/jobs/{job['id']}/cancel", headers=caller.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "JOB_NOT_CANCELABLE"


def test_cancel_a_running_job_stops_the_worker_without_results(client, celery_worker, make_account, gated):
    caller = make_account(credits=5)
    job = submit(client, caller)
    wait_status(job["id"], "running")
    assert gated.started.wait(10)
    assert client.post(f"/v1/jobs/{job['id']}/cancel", headers=caller.headers).json()["status"] == "aborted"
    assert gated.stopped.wait(10)  # the provider's next progress report raised JobAborted
    time.sleep(0.3)
    final = client.get(f"/v1/jobs/{job['id']}", headers=caller.headers).json()
    assert final["status"] == "aborted" and final["result"] is None and final["credits_charged"] == 0
    with session_scope() as session:
        assert session.scalars(select(Asset).where(Asset.job_id == job["id"])).all() == []
    assert account_objects(caller.account_id) == []
    assert ledger_sum(caller.account_id) == (5, 5)


def _race_completion_against_cancel(account_id: str, prompt: str, png: Path) -> str:
    """Start a job's completion and its cancel at the same instant; returns the final status."""
    from api.deps import get_catalog
    from shared.db.models import Job
    from shared.errors import JobNotCancelable
    from shared.jobs import execution, lifecycle, modes
    from shared.jobs.service import create_job
    from shared.settings import get_settings
    from workers import runner

    with session_scope() as session:
        job = create_job(session, account_id, modes.parse({"mode": "text_to_image", "prompt": prompt}),
                         get_catalog(), get_settings())
        session.info.pop("atelier_after_commit", None)  # no worker: this job is driven by hand
        job_id = job.id
    claimed = execution.claim(job_id)
    assert claimed is not None
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def complete() -> None:
        barrier.wait()
        results["finished"] = runner.finish(claimed, [Output(png, "image/png", "image")])

    def cancel() -> None:
        barrier.wait()
        try:
            with session_scope() as session:
                lifecycle.cancel_job(session, account_id, job_id)
            results["cancelled"] = True
        except JobNotCancelable:
            results["cancelled"] = False

    threads = [threading.Thread(target=complete), threading.Thread(target=cancel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["finished"] != results["cancelled"]  # exactly one of them took effect
    with session_scope() as session:
        row = session.get(Job, job_id)
        result_count = len(session.scalars(select(Asset).where(Asset.job_id == job_id)).all())
        if row.status == "completed":
            assert (row.credits_charged, result_count) == (1, 1)
        else:
            assert (row.status, row.credits_charged, result_count) == ("aborted", 0, 0)
        return row.status


def test_cancel_racing_completion_ends_in_exactly_one_state(make_account, stack_env, tmp_path):
    """Completion and cancel start together, many times: one wins, charged at most once."""
    from shared.db.models import Account

    caller = make_account(credits=40)
    png = tmp_path / "out.png"
    Image.new("RGB", (16, 16)).save(png)
    outcomes = [_race_completion_against_cancel(caller.account_id, f"race {i}", png) for i in range(15)]
    charged = outcomes.count("completed")
    assert ledger_sum(caller.account_id) == (40 - charged, 40 - charged)
    assert len(account_objects(caller.account_id)) == charged  # aborted runs left no objects behind
    with session_scope() as session:
        assert session.get(Account, caller.account_id).held == 0


def test_delete_removes_job_results_and_unshared_inputs(client, celery_worker, make_account, gated):
    caller = make_account(credits=10)
    gated.release.set()
    shared_input = client.post("/v1/assets", data={"kind": "image"}, files={"file": ("a.png", png_bytes())},
                               headers=caller.headers).json()
    own_input = client.post("/v1/assets", data={"kind": "image"}, files={"file": ("b.png", png_bytes(9, 9))},
                            headers=caller.headers).json()
    first = submit(client, caller, mode="image_to_image", input_image_asset_id=shared_input["id"])
    del first
    job = client.post("/v1/jobs", json={"mode": "image_to_image", "prompt": "gated y",
                                        "input_image_asset_id": own_input["id"]}, headers=caller.headers).json()
    other = client.post("/v1/jobs", json={"mode": "image_to_image", "prompt": "gated z",
                                          "input_image_asset_id": shared_input["id"]}, headers=caller.headers).json()
    done = wait_for_job(client, caller, job["id"])
    wait_for_job(client, caller, other["id"])
    assert done["status"] == "completed"
    result_id = done["result"]["assets"][0]["id"]
    with session_scope() as session:
        result_key = session.get(Asset, result_id).storage_key
        input_key = session.get(Asset, own_input["id"]).storage_key
    balance_before = client.get("/v1/account", headers=caller.headers).json()["credits"]["balance"]

    assert client.delete(f"/v1/jobs/{job['id']}", headers=caller.headers).status_code == 204
    assert client.get(f"/v1/jobs/{job['id']}", headers=caller.headers).status_code == 404
    assert client.get(f"/v1/assets/{result_id}", headers=caller.headers).status_code == 404
    assert client.get(f"/v1/assets/{own_input['id']}", headers=caller.headers).status_code == 404
    assert client.get(f"/v1/assets/{shared_input['id']}", headers=caller.headers).status_code == 200
    assert not get_storage().exists(result_key) and not get_storage().exists(input_key)
    assert client.get("/v1/account", headers=caller.headers).json()["credits"]["balance"] == balance_before


def test_delete_running_job_is_409_and_asset_in_use_is_409(client, celery_worker, make_account, gated):
    caller = make_account(credits=5)
    image = client.post("/v1/assets", data={"kind": "image"}, files={"file": ("a.png", png_bytes())},
                        headers=caller.headers).json()
    job = submit(client, caller, mode="image_to_image", input_image_asset_id=image["id"])
    wait_status(job["id"], "running")
    response = client.delete(f"/v1/jobs/{job['id']}", headers=caller.headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "JOB_RUNNING"
    assert client.delete(f"/v1/assets/{image['id']}", headers=caller.headers).status_code == 409
    gated.release.set()
    assert wait_for_job(client, caller, job["id"])["status"] == "completed"


def test_input_assets_must_be_owned_and_of_the_right_kind(client, make_account):
    owner, stranger = make_account(), make_account()
    image = client.post("/v1/assets", data={"kind": "image"}, files={"file": ("a.png", png_bytes())},
                        headers=owner.headers).json()
    foreign = client.post("/v1/jobs", json={"mode": "image_to_image", "prompt": "x",
                                            "input_image_asset_id": image["id"]}, headers=stranger.headers)
    assert foreign.status_code == 404
    wrong = client.post("/v1/jobs", json={"mode": "image_to_video", "input_image_asset_id": image["id"],
                                          "audio_asset_id": image["id"]}, headers=owner.headers)
    assert wrong.status_code == 400
    assert wrong.json()["error"]["details"]["errors"][0]["field"] == "audio_asset_id"


def test_sse_streams_each_change_and_ends_at_completion(client, celery_worker, make_account, gated):
    caller = make_account(credits=5)
    job = submit(client, caller)
    events = []
    threading.Timer(1.0, gated.release.set).start()
    with client.stream("GET", f"/v1/jobs/{job['id']}/events", headers=caller.headers) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    statuses = [e["status"] for e in events]
    assert statuses[-1] == "completed" and "running" in statuses
    assert statuses.index("running") < statuses.index("completed")
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress) and progress[-1] == 100
    assert len(set(zip(statuses, progress, strict=True))) == len(events)  # one event per change
    assert events[-1]["result"]["assets"]


def test_sse_of_a_foreign_job_is_404(client, make_account):
    owner, stranger = make_account(), make_account()
    job = submit(client, owner)
    assert client.get(f"/v1/jobs/{job['id']}/events", headers=stranger.headers).status_code == 404
