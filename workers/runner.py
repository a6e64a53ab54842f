"""Running a job: claim, fetch inputs, generate, store and probe outputs, settle — or fail.

Called by the thin Celery tasks in ``workers.tasks.jobs``. Each step that changes the job is
its own short transaction; generation happens outside any transaction.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from shared import signed
from shared.assets import file_sha256, storage_key
from shared.catalog import Catalog, get_catalog
from shared.db.models import Asset
from shared.db.session import session_scope
from shared.ids import new_id
from shared.jobs import service
from shared.media.probe import MediaDecodeError, probe
from shared.media.sniff import EXTENSIONS
from shared.settings import get_settings
from shared.storage import get_storage
from workers.context import WorkerContext
from workers.providers import registry
from workers.providers.base import GenerationRequest, InputFile, JobAborted, Output, ProviderError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InputRef:
    role: str
    asset: Asset


@dataclass
class ClaimedJob:
    """The job as read at claim time; the runner works from this, not from a live row."""

    id: str
    account_id: str
    mode: str
    model: str
    provider: str
    prompt: str | None
    params: dict[str, Any]
    inputs: list[InputRef] = field(default_factory=list)


def claim(job_id: str) -> ClaimedJob | None:
    with session_scope() as session:
        job = service.claim(session, job_id)
        if job is None:
            return None
        links = {link.role: link.asset_id for link in job.input_links}
        rows = session.scalars(select(Asset).where(Asset.id.in_(links.values()))).all() if links else []
        by_id = {a.id: a for a in rows}
        return ClaimedJob(job.id, job.account_id, job.mode, job.model, job.provider, job.prompt,
                          dict(job.inputs), [InputRef(role, by_id[aid]) for role, aid in links.items()])


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
    stored: list[Asset] = []
    try:
        for index, out in enumerate(outputs):
            info = probe(out.path, out.kind)
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
        with session_scope() as session:
            row = service.lock_running(session, job.id)
            if row is not None:
                service.complete(session, row, stored)
    except BaseException:
        discard(stored)
        raise
    if row is None:
        discard(stored)
        log.info("job %s ended before completion; results discarded", job.id)
        return False
    return True


def fail(job_id: str, code: str, message: str) -> None:
    with session_scope() as session:
        row = service.lock_running(session, job_id)
        if row is not None:
            service.fail(session, row, code, message)


def render(job: ClaimedJob) -> None:
    """Generate in this process (the offline ``local`` provider) and complete the job."""
    provider = registry.local_provider(job.provider)
    with tempfile.TemporaryDirectory(prefix=f"atelier-{job.id}-") as tmp, failures_end_the_job(job.id):
        workdir = Path(tmp)
        inputs = fetch_inputs(job, workdir)
        request = build_request(job, get_catalog(), inputs)
        finish(job, provider.generate(request, WorkerContext(job.id, workdir)))


@contextmanager
def failures_end_the_job(job_id: str) -> Iterator[None]:
    """Map what can go wrong while generating to the job's terminal state."""
    try:
        yield
    except JobAborted:
        log.info("job %s was cancelled; stopped", job_id)
    except ProviderError as exc:
        fail(job_id, exc.code, exc.message)
    except SoftTimeLimitExceeded:
        fail(job_id, "TIMEOUT", "The job exceeded its time limit.")
    except MediaDecodeError as exc:
        fail(job_id, "OUTPUT_INVALID", f"The provider produced a file that does not decode: {exc}")
    except (OperationalError, redis.RedisError):
        # Our own backing services: leave the job running; the sweeper requeues it.
        raise
    except Exception:
        log.exception("job %s failed unexpectedly", job_id)
        fail(job_id, "INTERNAL_ERROR", "Generation failed unexpectedly.")
