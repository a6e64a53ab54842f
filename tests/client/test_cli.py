"""``atelier-client`` in-process (its ``main``) and once as the installed console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from atelier.client.cli import main
from tests.media_samples import png_bytes

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(capsys, server: str, key: str, *argv: str) -> tuple[int, str, str]:
    code = main(["--api-url", server, "--api-key", key, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_generate_text_to_image_writes_the_png_with_a_progress_bar(live_server, make_account, celery_worker,
                                                                   tmp_path):
    caller = make_account()
    out = tmp_path / "out.png"
    env = {**os.environ, "ATELIER_API_URL": live_server, "ATELIER_API_KEY": caller.key,
           "ATELIER_HOME": str(tmp_path / "nohome"), "COLUMNS": "120"}
    done = subprocess.run([str(Path(sys.executable).with_name("atelier-client")), "generate", "text_to_image",
                           "a lighthouse at dusk", "-o", str(out)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(PNG_MAGIC)
    assert "completed" in done.stderr and "100%" in done.stderr and "1 credits charged" in done.stderr
    assert f"saved {out}" in done.stdout


def test_generate_json_no_wait_then_jobs_commands(capsys, live_server, make_account, celery_worker, tmp_path):
    caller = make_account()
    code, out, _ = _run(capsys, live_server, caller.key, "generate", "audio", "Hello there.", "--no-wait", "--json")
    assert code == 0
    job = json.loads(out)
    assert job["mode"] == "audio" and job["status"] == "queued"
    code, out, _ = _run(capsys, live_server, caller.key, "jobs", "get", job["id"], "--wait", "30", "--json")
    assert code == 0 and json.loads(out)["status"] == "completed"
    code, out, _ = _run(capsys, live_server, caller.key, "jobs", "ls", "--json", "--all")
    assert [j["id"] for j in json.loads(out)] == [job["id"]]
    code, out, _ = _run(capsys, live_server, caller.key, "jobs", "ls")
    assert code == 0 and job["id"] in out
    code, _, err = _run(capsys, live_server, caller.key, "jobs", "cancel", job["id"])
    assert code == 1 and "JOB_NOT_CANCELABLE" in err
    code, out, _ = _run(capsys, live_server, caller.key, "jobs", "rm", job["id"], "--json")
    assert code == 0 and json.loads(out) == {"id": job["id"], "deleted": True}
    code, _, err = _run(capsys, live_server, caller.key, "jobs", "get", job["id"])
    assert code == 1 and "NOT_FOUND" in err


def test_image_input_upload_and_assets_commands(capsys, live_server, make_account, celery_worker, tmp_path):
    caller = make_account()
    source = tmp_path / "in.png"
    source.write_bytes(png_bytes(40, 30))
    code, out, err = _run(capsys, live_server, caller.key, "generate", "image_to_image", "sepia", "--image",
                          str(source), "-o", str(tmp_path), "--json", "-q")
    assert code == 0, err
    job = json.loads(out)
    (saved,) = job["saved"]
    assert Path(saved).read_bytes().startswith(PNG_MAGIC) and job["inputs"]["input_image_asset_id"]
    code, out, _ = _run(capsys, live_server, caller.key, "assets", "upload", str(source), "--json")
    asset = json.loads(out)
    assert asset["kind"] == "image" and asset["width"] == 40
    code, out, _ = _run(capsys, live_server, caller.key, "assets", "download", asset["id"], "-o",
                        str(tmp_path / "copy.png"))
    assert code == 0 and (tmp_path / "copy.png").read_bytes() == source.read_bytes()
    code, out, _ = _run(capsys, live_server, caller.key, "assets", "ls", "--json")
    assert asset["id"] in [a["id"] for a in json.loads(out)]


def test_account_usage_and_friendly_errors(capsys, live_server, make_account, monkeypatch, tmp_path):
    poor = make_account(plan="free", credits=0)
    code, _, err = _run(capsys, live_server, poor.key, "generate", "text_to_video", "a storm",
                        "--set", "duration_seconds=2")
    assert code == 1 and "costs 44 credits and 0 are left" in " ".join(err.split())
    code, out, _ = _run(capsys, live_server, poor.key, "account", "--json")
    assert json.loads(out)["plan"]["name"] == "free"
    code, out, _ = _run(capsys, live_server, poor.key, "usage", "--json")
    assert code == 0 and {e["kind"] for e in json.loads(out)} == {"signup_grant", "adjustment"}
    code, _, err = _run(capsys, live_server, "at_live_nope.nope", "account")
    assert code == 1 and "UNAUTHENTICATED" in err
    monkeypatch.delenv("ATELIER_API_KEY", raising=False)
    monkeypatch.setenv("ATELIER_HOME", str(tmp_path))
    assert main(["account"]) == 1
    assert "No API key" in capsys.readouterr().err
    (tmp_path / "dev.env").write_text(f"ATELIER_API_URL={live_server}\nATELIER_API_KEY={poor.key}\n")
    monkeypatch.delenv("ATELIER_API_URL", raising=False)
    assert main(["account", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == poor.account_id
