"""Requests, checks and recorded recovery times shared by the fault tests."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import httpx

from tests.faults.harness import FaultStack
from tests.support import Caller

#: Long enough on the local provider to be killed mid-render.
SLOW_JOB = {"mode": "text_to_video", "prompt": "a slow tide under the pier", "duration_seconds": 4}
QUICK_JOB = {"mode": "text_to_image", "prompt": "a red kite", "size": "512x512"}

#: Recovery times measured in this run, printed at the end of the session (see conftest).
MEASURED: list[tuple[str, float, str]] = []


def record(name: str, seconds: float, note: str = "") -> None:
    MEASURED.append((name, seconds, note))
    target = os.environ.get("ATELIER_FAULTS_REPORT")
    if target:
        with Path(target).open("a") as out:
            out.write(json.dumps({"fault": name, "seconds": round(seconds, 1), "note": note}) + "\n")


def submit(api_url: str, caller: Caller, body: dict[str, Any]) -> str:
    response = httpx.post(f"{api_url}/v1/jobs", json=body, headers=caller.headers, timeout=30)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def charged_once(stack: FaultStack, account_id: str, job_id: str) -> None:
    """The job completed, was charged exactly once, and the balance is the sum of the ledger."""
    (status, charged, held), = stack.rows("SELECT status, credits_charged, held_credits FROM jobs WHERE id = :id",
                                          id=job_id)
    assert (status, held) == ("completed", 0) and charged > 0
    kinds = [k for (k,) in stack.rows("SELECT kind FROM credit_ledger WHERE job_id = :id ORDER BY id", id=job_id)]
    assert kinds.count("charge") == 1, kinds
    (total, balance, account_held), = stack.rows(
        "SELECT (SELECT coalesce(sum(amount), 0) FROM credit_ledger WHERE account_id = :a), balance, held "
        "FROM accounts WHERE id = :a", a=account_id)
    assert (total, account_held) == (balance, 0)


def deliveries(log: str, task: str = "jobs.run") -> int:
    """How many messages of ``task`` a worker received, from its INFO log."""
    return sum(1 for line in log.splitlines() if f"Task {task}[" in line and "received" in line)


def elapsed_since(start: float) -> float:
    return time.monotonic() - start
