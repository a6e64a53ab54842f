"""The core path end to end through a real Celery worker: submit, long-poll, download, pay."""

from __future__ import annotations

import io
import time

from PIL import Image

from shared.db.models import Job
from shared.db.session import session_scope
from tests.support import ledger_sum, wait_for_job


def submit(client, caller, **body):
    return client.post("/v1/jobs", json=body, headers=caller.headers)


def test_text_to_image_end_to_end(client, celery_worker, make_account):
    caller = make_account(credits=10)
    response = submit(client, caller, mode="text_to_image", prompt="a lighthouse at dusk", n=2,
                      size="512x512", seed=7)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["id"].startswith("job_") and job["object"] == "job"
    assert (job["status"], job["model"], job["provider"]) == ("queued", "local/sketch-1", "local")
    assert job["inputs"] == {"n": 2, "size": "512x512", "seed": 7}
    assert job["estimated_credits"] == 2 and job["credits_charged"] == 0 and job["result"] is None
    account = client.get("/v1/account", headers=caller.headers).json()
    assert account["credits"]["held"] == 2 and account["credits"]["remaining"] == 8

    done = wait_for_job(client, caller, job["id"])
    assert done["status"] == "completed", done
    assert done["progress"] == 100 and done["credits_charged"] == 2
    assert done["started_at"] and done["completed_at"]
    results = done["result"]["assets"]
    assert len(results) == 2
    images = []
    for asset in results:
        assert (asset["kind"], asset["content_type"], asset["source"]) == ("image", "image/png", "generated")
        assert (asset["width"], asset["height"], asset["job_id"]) == (512, 512, job["id"])
        body = client.get(f"/v1/assets/{asset['id']}/content", headers=caller.headers)
        assert body.status_code == 200 and body.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(body.content))
        assert image.format == "PNG" and image.size == (512, 512)
        images.append(body.content)
    assert images[0] != images[1]

    account = client.get("/v1/account", headers=caller.headers).json()
    assert account["credits"]["held"] == 0 and account["credits"]["balance"] == 8
    assert ledger_sum(caller.account_id) == (8, 8)
    usage = client.get("/v1/account/usage", headers=caller.headers).json()["data"]
    kinds = [entry["kind"] for entry in usage if entry["job_id"] == job["id"]]
    assert sorted(kinds) == ["charge", "hold", "release"]


def test_results_are_owner_only(client, celery_worker, make_account):
    owner, stranger = make_account(), make_account()
    job = submit(client, owner, mode="text_to_image", prompt="a red fox", size="512x512").json()
    done = wait_for_job(client, owner, job["id"])
    asset_id = done["result"]["assets"][0]["id"]
    assert client.get(f"/v1/jobs/{job['id']}", headers=stranger.headers).status_code == 404
    assert client.get(f"/v1/assets/{asset_id}/content", headers=stranger.headers).status_code == 404
    assert client.get(f"/v1/assets/{asset_id}/content").status_code == 401


def test_insufficient_credits_is_402_and_creates_nothing(client, make_account):
    caller = make_account(plan="free", credits=1)
    response = submit(client, caller, mode="text_to_image", prompt="two owls", n=3)
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "INSUFFICIENT_CREDITS"
    assert error["details"]["required"] == 3 and error["details"]["available"] == 1
    assert error["details"]["breakdown"][0]["component"] == "image"
    assert client.get("/v1/jobs", headers=caller.headers).json()["data"] == []
    account = client.get("/v1/account", headers=caller.headers).json()
    assert account["credits"]["held"] == 0 and account["credits"]["balance"] == 1
    assert ledger_sum(caller.account_id) == (1, 1)


def test_new_account_gets_one_signup_credit(client, make_account):
    caller = make_account(plan="free")
    account = client.get("/v1/account", headers=caller.headers).json()
    assert account["plan"]["name"] == "free" and account["premium"] is False
    assert account["credits"]["balance"] == 1 and account["credits"]["free_signup_remaining"] == 1


def test_long_poll_returns_promptly_when_the_job_finishes(client, celery_worker, make_account):
    caller = make_account()
    job = submit(client, caller, mode="text_to_image", prompt="a quiet harbour", size="512x512").json()
    started = time.monotonic()
    response = client.get(f"/v1/jobs/{job['id']}?wait=45", headers=caller.headers)
    elapsed = time.monotonic() - started
    assert response.json()["status"] == "completed"
    # The wait ends on the job event, far before the 45 s bound.
    assert elapsed < 30


def test_long_poll_times_out_with_the_job_as_it_is(client, make_account):
    caller = make_account()
    with session_scope() as session:  # a job no worker will pick up: held in the past
        from api.deps import get_catalog
        from shared.jobs import modes
        from shared.jobs.service import create_job
        from shared.settings import get_settings

        job = create_job(session, caller.account_id, modes.parse({"mode": "text_to_image", "prompt": "x"}),
                         get_catalog(), get_settings())
        session.query(Job).filter(Job.id == job.id).update({"status": "running"})
        job_id = job.id
    response = client.get(f"/v1/jobs/{job_id}?wait=1", headers=caller.headers)
    assert response.status_code == 200 and response.json()["status"] == "running"
    assert client.get(f"/v1/jobs/{job_id}?wait=61", headers=caller.headers).status_code == 400


def test_second_delivery_of_the_same_task_does_nothing(client, celery_worker, make_account):
    from shared.queue import FAST, send
    from workers import dispatch

    caller = make_account(credits=5)
    job = submit(client, caller, mode="text_to_image", prompt="a paper boat", size="512x512").json()
    send("jobs.run", [job["id"]], FAST)  # the broker delivers it a second time
    done = wait_for_job(client, caller, job["id"])
    assert done["status"] == "completed"
    dispatch.run(job["id"])  # and a third, after completion
    time.sleep(0.5)
    again = client.get(f"/v1/jobs/{job['id']}", headers=caller.headers).json()
    assert again["attempts"] == 1 and again["credits_charged"] == 1
    assert len(again["result"]["assets"]) == 1
    assert ledger_sum(caller.account_id) == (4, 4)


def test_list_jobs_with_cursor_and_filters(client, make_account):
    caller = make_account(credits=50)
    ids = [submit(client, caller, mode="text_to_image", prompt=f"p{i}").json()["id"] for i in range(3)]
    page = client.get("/v1/jobs?limit=2", headers=caller.headers).json()
    assert [j["id"] for j in page["data"]] == ids[::-1][:2] and page["has_more"]
    rest = client.get(f"/v1/jobs?limit=2&after={page['next_cursor']}", headers=caller.headers).json()
    assert [j["id"] for j in rest["data"]] == [ids[0]]
    assert client.get("/v1/jobs?mode=music", headers=caller.headers).json()["data"] == []
    assert client.get("/v1/jobs?status=bogus", headers=caller.headers).status_code == 400


def test_models_list_has_a_default_per_mode(client, make_account):
    caller = make_account()
    models = client.get("/v1/models", headers=caller.headers).json()["data"]
    defaults = {m["mode"]: m["id"] for m in models if m["default"]}
    assert defaults["text_to_image"] == "local/sketch-1"
    assert all(m["provider"] == "local" for m in models)  # no upstream credentials configured
    image = next(m for m in models if m["id"] == "local/sketch-1")
    assert image["pricing"] == [{"component": "image", "unit": "image", "per": 1, "credits": 1}]
