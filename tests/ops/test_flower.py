"""Flower with the credentials `atelier dev` generates: its UI and API need them and answer with them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cli.dev import flower_credentials
from shared.embedded import free_port
from tests.support import wait_for_job


def test_dev_credentials_are_generated_once_and_kept():
    first = flower_credentials({})
    assert first["ATELIER_FLOWER_USER"] == "atelier" and len(first["ATELIER_FLOWER_PASSWORD"]) >= 20
    assert flower_credentials(first) == first
    assert flower_credentials({})["ATELIER_FLOWER_PASSWORD"] != first["ATELIER_FLOWER_PASSWORD"]


def test_flower_api_answers_with_the_credentials(stack_env, client, celery_worker, make_account, tmp_path):
    creds = flower_credentials({})
    port = free_port()
    env = {**os.environ, **stack_env, **creds}
    log = (tmp_path / "flower.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "cli", "flower", "--port", str(port)], env=env,
                            cwd=Path(__file__).parents[2], stdout=log, stderr=subprocess.STDOUT)
    base, auth = f"http://127.0.0.1:{port}", (creds["ATELIER_FLOWER_USER"], creds["ATELIER_FLOWER_PASSWORD"])
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "flower.log").read_text()
            try:
                if httpx.get(f"{base}/healthcheck", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "flower did not start"
            time.sleep(0.2)
        assert httpx.get(f"{base}/api/workers", timeout=10).status_code == 401
        assert httpx.get(f"{base}/api/workers", auth=(auth[0], "wrong"), timeout=10).status_code == 401
        workers = httpx.get(f"{base}/api/workers", params={"refresh": "true"}, auth=auth, timeout=30)
        assert workers.status_code == 200 and isinstance(workers.json(), dict)
        caller = make_account()
        job = client.post("/v1/jobs", json={"mode": "text_to_image", "prompt": "seen by flower"},
                          headers=caller.headers).json()
        assert wait_for_job(client, caller, job["id"])["status"] == "completed"
        names: set[str] = set()
        while "jobs.run" not in names and time.monotonic() < deadline + 30:
            tasks = httpx.get(f"{base}/api/tasks", auth=auth, timeout=10)
            assert tasks.status_code == 200
            names = {t.get("name") for t in tasks.json().values()}
            time.sleep(0.2)
        assert "jobs.run" in names
    finally:
        proc.terminate()
        proc.wait(timeout=20)
