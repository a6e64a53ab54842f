"""Running a claimed job here: fetch inputs, generate, store and probe outputs, complete — or fail.

Called through ``workers.dispatch`` by the thin Celery tasks in ``workers.tasks.jobs``. Every
change to the job is a step of ``shared.jobs.execution`` (its own short transaction);
generation and storage happen between them, outside any transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import redis
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError

from shared import signed
from shared.assets import file_sha256, storage_key
from shared.catalog import Catalog, get_catalog
from shared.db.models import Asset
from shared.ids import new_id
from shared.jobs import execution, modes
from shared.jobs.execution import ClaimedJob
from shared.media.probe import MediaDecodeError, probe
from shared.media.sniff import EXTENSIONS
from shared.settings import get_settings
from shared.storage import get_storage
from workers import scratch
from workers.context import WorkerContext
from workers.heartbeat import heartbeat
from workers.providers import registry
from workers.providers.base import GenerationFailed, GenerationRequest, InputFile, JobAborted, Output, ProviderError

log = logging.getLogger(__name__)


def fetch_inputs(job: ClaimedJob, workdir: Path, *, signed_urls: bool = False) -> dict[str, InputFile]:
    """Download input assets next to the job's outputs (and sign URLs for upstream providers)."""
    settings = get_settings()
    storage = get_storage(settings)
    found = {}
    for ref in job.inputs:
        asset = ref.asset
        path = workdir / f"input-{ref.role}.{EXTENSIONS.get(asset.content_type, 'bin')}"
        storage.download_to(asset.storage_key, path)
        url = None
        if signed_urls:
            # S3 presigns; otherwise the API's own signed URL if the API is reachable from
            # outside; otherwise the adapter inlines small files as data URIs.
            url = storage.presigned_url(asset.storage_key, expires_in=900, content_type=asset.content_type)
            if url is None and settings.public_url:
                url = signed.asset_url(settings, asset.id)
        found[ref.role] = InputFile(role=ref.role, asset_id=asset.id, kind=asset.kind,  # type: ignore[arg-type]
                                    content_type=asset.content_type, path=path, url=url,
                                    duration_seconds=asset.duration_seconds, width=asset.width,
                                    height=asset.height)
    return found


def build_request(job: ClaimedJob, catalog: Catalog, inputs: dict[str, InputFile],
                  model_id: str | None = None) -> GenerationRequest:
    spec = catalog.get(model_id or job.model)
    provider_model = spec.provider_model if spec else (model_id or job.model)
    return GenerationRequest(job_id=job.id, mode=job.mode, model=model_id or job.model,
                             provider_model=provider_model, prompt=job.prompt, params=job.params, inputs=inputs)


def store_outputs(job: ClaimedJob, outputs: Sequence[Output]) -> list[Asset]:
    """Probe each output and stream it to storage; returns unsaved result rows."""
    storage = get_storage(get_settings())
    produces = modes.spec_for(job.mode).outputs
    stored: list[Asset] = []
    try:
        for index, out in enumerate(outputs):
            if out.kind not in produces:
                raise GenerationFailed(f"the provider returned {out.kind} output; {job.mode} produces "
                                       f"{' or '.join(produces)}")
            info = out.known or probe(out.path, out.kind, content_type=out.content_type)
            asset_id = new_id("ast")
            filename = f"{job.id}-{index}.{EXTENSIONS.get(out.content_type, 'bin')}"
            key = storage_key(job.account_id, asset_id, filename)
            storage.put_file(key, out.path, content_type=out.content_type)
            stored.append(Asset(
                id=asset_id, account_id=job.account_id, kind=out.kind, content_type=out.content_type,
                bytes=out.path.stat().st_size, sha256=file_sha256(out.path), width=info.width, height=info.height,
                duration_seconds=info.duration_seconds, source="generated", job_id=job.id,
                filename=filename, storage_key=key))
    except BaseException:
        discard(stored)
        raise
    return stored


def discard(stored: Sequence[Asset]) -> None:
    storage = get_storage(get_settings())
    for asset in stored:
        try:
            storage.delete(asset.storage_key)
        except Exception:
            log.exception("could not delete %s", asset.storage_key)


def finish(job: ClaimedJob, outputs: Sequence[Output]) -> bool:
    """Store outputs and complete the job in one transaction. False if the job was cancelled
    meanwhile: then nothing is kept and the stored objects are deleted."""
    stored = store_outputs(job, outputs)
    try:
        completed = execution.complete(job, stored)
    except BaseException:
        discard(stored)
        raise
    if not completed:
        discard(stored)
        log.info("job %s ended before completion; results discarded", job.id)
    return completed


def render(job: ClaimedJob) -> None:
    """Generate in this process (the offline ``local`` provider) and complete the job."""
    provider = registry.local_provider(job.provider)
    with scratch.job_dir(job.id) as workdir, heartbeat(job.id, job.attempt), failures_end_the_job(job):
        inputs = fetch_inputs(job, workdir)
        request = build_request(job, get_catalog(), inputs)
        finish(job, provider.generate(request, WorkerContext(job.id, workdir, job.attempt)))


@contextmanager
def failures_end_the_job(job: ClaimedJob) -> Iterator[None]:
    """Map what can go wrong while generating to the job's terminal state."""
    try:
        yield
    except JobAborted:
        log.info("job %s was cancelled; stopped", job.id)
    except ProviderError as exc:
        execution.fail(job, exc.code, exc.message)
    except SoftTimeLimitExceeded:
        execution.fail(job, "TIMEOUT", "The job exceeded its time limit.")
    except MediaDecodeError as exc:
        execution.fail(job, "OUTPUT_INVALID", f"The provider produced a file that does not decode: {exc}")
    except (OperationalError, redis.RedisError):
        # Our own backing services: the task is retried with back-off (workers/tasks/jobs.py).
        raise
    except Exception:
        log.exception("job %s failed unexpectedly", job.id)
        execution.fail(job, "INTERNAL_ERROR", "Generation failed unexpectedly.")
