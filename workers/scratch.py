"""A job's scratch directory, and the clean-up of those left behind by killed workers.

A directory is named ``atelier-<job id>-<pid>-…`` after the process working in it. A worker
killed mid-job (SIGKILL, OOM) cannot remove its own, so each pool process removes, when it
starts, every such directory whose owner process is gone or whose job no longer runs.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from shared.db.models import Job
from shared.db.session import session_scope

log = logging.getLogger(__name__)

_NAME = re.compile(r"^atelier-(job_[A-Za-z0-9]+)-(\d+)-")


@contextmanager
def job_dir(job_id: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"atelier-{job_id}-{os.getpid()}-") as tmp:
        yield Path(tmp)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _running(job_ids: set[str]) -> set[str]:
    if not job_ids:
        return set()
    with session_scope() as session:
        return set(session.scalars(select(Job.id).where(Job.id.in_(job_ids), Job.status == "running")))


def clean_stale(root: Path | None = None) -> list[Path]:
    """Remove the scratch directories of dead processes or ended jobs; returns what was removed."""
    root = root or Path(tempfile.gettempdir())
    found: dict[Path, tuple[str, int]] = {}
    for path in root.glob("atelier-job_*"):
        match = _NAME.match(path.name)
        if match and path.is_dir():
            found[path] = (match.group(1), int(match.group(2)))
    owned = {path: job for path, (job, pid) in found.items() if _alive(pid) and pid != os.getpid()}
    try:
        running = _running(set(owned.values()))
    except Exception as exc:  # the database is away: only the dead processes' directories go
        log.warning("scratch clean-up without the database (%s)", type(exc).__name__)
        running = set(owned.values())
    removed = [path for path in found if path not in owned or owned[path] not in running]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    if removed:
        log.info("removed %d scratch directories left by killed jobs", len(removed))
    return removed
