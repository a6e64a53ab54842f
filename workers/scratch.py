"""A job's scratch directory, and the clean-up of those left behind by killed workers.

A directory is named ``atelier-<job id>-<pid>-…`` after the process working in it. A worker
killed mid-job (SIGKILL, OOM) cannot remove its own, so each pool process removes, when it
starts, every such directory whose owner process is gone. A live owner's directory is never
touched: it removes its own when its job ends, and the temp directory may be shared with other
installations on the host whose jobs this one's database does not know.
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


def clean_stale(root: Path | None = None) -> list[Path]:
    """Remove the scratch directories of dead processes; returns what was removed.

    A directory named after this very process predates it (a reused pid), so it goes too.
    """
    root = root or Path(tempfile.gettempdir())
    removed = []
    for path in root.glob("atelier-job_*"):
        match = _NAME.match(path.name)
        if not (match and path.is_dir()):
            continue
        pid = int(match.group(2))
        if pid == os.getpid() or not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        log.info("removed %d scratch directories left by killed jobs", len(removed))
    return removed
