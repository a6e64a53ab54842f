"""The bare Celery baselines: same broker, same prefork pool and reliability settings as the
Atelier worker, tasks doing only what the measured path cannot avoid.

    celery -A bench.hotpaths.bare_worker worker -Q bench.bare   (run by the bench)

- ``bench.started``: announce on Redis that the task started (P3).
- ``bench.render``: the local provider's render of the same request, written to the same storage
  (P6), then announce completion.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
from celery import Celery

from bench.hotpaths.bare_api import BARE_QUEUE
from shared.queue import celery_config

app = Celery("bench-bare")
app.conf.update(celery_config())
app.conf.update(task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
                task_default_queue=BARE_QUEUE, worker_hijack_root_logger=False)


def _announce(channel: str, job_id: str, status: str) -> None:
    from shared.redis_client import get_redis

    client: redis.Redis = get_redis()
    client.publish(channel, json.dumps({"job_id": job_id, "status": status, "ts": time.time()}))


class _Quiet:
    """A provider context that reports nowhere: the baseline has no job row to update."""

    def __init__(self, workdir: Path) -> None:
        self.job_id = "bare"
        self.workdir = workdir

    def progress(self, percent: float) -> None:
        pass

    def check_cancelled(self) -> None:
        pass


@app.task(name="bench.started", ignore_result=True)
def started(job_id: str, channel: str) -> None:
    _announce(channel, job_id, "running")


@app.task(name="bench.render", ignore_result=True)
def render(job_id: str, channel: str, prompt: str, params: dict[str, Any]) -> None:
    from shared.catalog import get_catalog
    from shared.settings import get_settings
    from shared.storage import get_storage
    from workers.providers.base import GenerationRequest
    from workers.providers.registry import local_provider

    model = get_catalog().resolve("text_to_image", None)
    request = GenerationRequest(job_id=job_id, mode="text_to_image", model=model.id,
                                provider_model=model.provider_model, prompt=prompt, params=params, inputs={})
    storage = get_storage(get_settings())
    with tempfile.TemporaryDirectory(prefix="bench-bare-") as tmp:
        for index, out in enumerate(local_provider().generate(request, _Quiet(Path(tmp)))):  # type: ignore[arg-type]
            storage.put_file(f"bare/{job_id}-{index}.png", out.path, content_type=out.content_type)
    _announce(channel, job_id, "completed")
