"""The job state machine: queued → running → completed | failed | aborted.

Every transition is a conditional UPDATE or a row lock, so a job ends in exactly one
terminal state however many workers, sweepers and cancel requests race on it. Each committed
transition publishes a job event (and queues webhook deliveries) after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, lazyload, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from shared import queue
from shared.catalog import Catalog, ModelSpec
from shared.credits import ledger
from shared.credits.pricing import PriceRule, price
from shared.db.models import Asset, Job, JobInput
from shared.db.pagination import Page, paginate
from shared.db.session import after_commit
from shared.errors import NotFound, ValidationError
from shared.ids import new_id
from shared.jobs import events, modes
from shared.jobs.requests import JobRequestBase
from shared.settings import Settings, get_settings
from shared.views import TERMINAL
from shared.webhooks.addresses import validate_webhook_url


def _input_assets(session: Session, account_id: str, request: JobRequestBase) -> dict[str, Asset]:
    found: dict[str, Asset] = {}
    for name, field in request.asset_fields.items():
        asset_id = getattr(request, name, None)
        if asset_id is None:
            continue
        asset = session.get(Asset, asset_id)
        if asset is None or asset.account_id != account_id:
            raise NotFound(f"No asset {asset_id}.", details={"field": name})
        if asset.kind != field.kind:
            raise ValidationError.field(name, f"asset {asset_id} is {asset.kind}, expected {field.kind}")
        if field.max_seconds is not None and (asset.duration_seconds or 0) > field.max_seconds:
            raise ValidationError.field(name, f"{field.role} is {asset.duration_seconds:.1f} s; "
                                              f"at most {field.max_seconds:.0f} s")
        found[field.role] = asset
    return found


def resolve_model(request: JobRequestBase, catalog: Catalog) -> ModelSpec:
    """The model that will serve the request (400 for an unknown one). A parameter the model
    does not honour (``ModelSpec.unsupported``: a style, a size, a speed… its catalog entry
    does not declare) is refused with a 400 naming it, not silently dropped."""
    model = catalog.resolve(request.mode, request.model)
    model.refuse_unsupported(request.params())
    return model


def create_job(session: Session, account_id: str, request: JobRequestBase, catalog: Catalog,
               settings: Settings, *, api_key_id: str | None = None) -> Job:
    model = resolve_model(request, catalog)
    assets = _input_assets(session, account_id, request)
    request.check_inputs(assets)
    if request.webhook_url is not None:
        validate_webhook_url(request.webhook_url, allow_private=settings.webhook_allow_private)
    params = request.params()
    estimate = price(model.price_rules, modes.spec_for(request.mode).estimate(params, assets), params)
    job_id = new_id("job")
    row: dict[str, Any] = {
        "id": job_id, "account_id": account_id, "mode": request.mode, "status": "queued", "model": model.id,
        "provider": model.provider, "api_key_id": api_key_id, "prompt": request.prompt_text, "params": params,
        "progress": 0, "estimated_credits": estimate.credits, "held_credits": estimate.credits,
        "credits_charged": 0, "attempts": 0, "webhook_url": request.webhook_url,
        "pricing": {"rules": [asdict(r) for r in model.price_rules], "estimate": estimate.as_dict()},
        "webhook_events": request.events(), "metadata": request.metadata or {},
    }
    ledger.hold(session, account_id, job_id, estimate.credits, estimate.breakdown, api_key_id=api_key_id)
    job = _insert(session, row)
    if assets:
        session.add_all(JobInput(job_id=job.id, role=role, asset_id=asset.id) for role, asset in assets.items())
        session.flush()
    enqueue(session, job)
    events.created(session, job)
    return job


#: The job row as a plain INSERT, its server defaults returned: the ORM's unit of work for one new
#: object cost about as much CPU as the statement's round trip.
_JOBS = Job.metadata.tables[Job.__tablename__]
_INSERT_JOB = insert(_JOBS).returning(_JOBS.c.created_at, _JOBS.c.updated_at)


def _insert(session: Session, row: dict[str, Any]) -> Job:
    """Insert the job's row and return it as a persistent ``Job`` of ``session`` (no SELECT)."""
    created = session.execute(_INSERT_JOB, row).one()
    job = Job(**{("metadata_" if k == "metadata" else k): v for k, v in row.items()},
              created_at=created.created_at, updated_at=created.updated_at, error=None, upstream=None,
              started_at=None, completed_at=None)
    make_transient_to_detached(job)  # the row exists: the session adopts the object without an INSERT
    session.add(job)
    return job


def enqueue(session: Session, job: Job) -> None:
    """Publish the job's run, on its mode's queue, under its mode's time limits."""
    spec = modes.spec_for(job.mode)
    queue.send_after_commit(session, queue.RUN_JOB, [job.id], spec.queue,
                            time_limits=spec.time_limits(get_settings()))


#: Built once (every job read runs it; building it per call cost about as much CPU as running it).
_JOB = select(Job).where(Job.id == bindparam("job_id"), Job.account_id == bindparam("account_id"))
_JOB_LOCKED = _JOB.with_for_update()


def get_job(session: Session, account_id: str, job_id: str, *, lock: bool = False) -> Job:
    job = session.scalars(_JOB_LOCKED if lock else _JOB, {"job_id": job_id, "account_id": account_id}).one_or_none()
    if job is None:
        raise NotFound(f"No job {job_id}.")
    return job


def job_status(connection: Connection | Session, account_id: str, job_id: str) -> str:
    """The job's status alone (a long poll's registration needs nothing more)."""
    status = connection.execute(select(Job.status).where(Job.id == job_id, Job.account_id == account_id)
                                ).scalar_one_or_none()
    if status is None:
        raise NotFound(f"No job {job_id}.")
    return str(status)


def list_jobs(session: Session, account_id: str, *, limit: int, after: str | None,
              status: str | None = None, mode: str | None = None) -> Page:
    # The page's results in one SELECT (a job's view shows them once it is completed), not one per job.
    stmt = select(Job).where(Job.account_id == account_id).options(selectinload(Job.results))
    if status:
        stmt = stmt.where(Job.status == status)
    if mode:
        stmt = stmt.where(Job.mode == mode)
    return paginate(session, stmt, Job, account_id=account_id, after=after, limit=limit)


# -- worker side -------------------------------------------------------------------------

# The worker's statements, built once with bound parameters (building them per job cost about as
# much CPU as running them). A lost job: running, not upstream, its lease (heartbeat) expired.
_LOST = (Job.status == "running") & Job.upstream.is_(None) & (Job.updated_at < bindparam("stale_before"))
_PREVIOUS = select(Job.status).where(Job.id == bindparam("job_id")).scalar_subquery()
_CLAIM = (
    update(Job).where(Job.id == bindparam("job_id"),
                      (Job.status == "queued") | (_LOST & (Job.attempts < bindparam("max_attempts"))))
    .values(status="running", attempts=Job.attempts + 1, started_at=bindparam("now"), updated_at=bindparam("now"))
    .returning(Job, _PREVIOUS.label("previous")).options(lazyload(Job.results))
)
_EXHAUSTED = select(Job).where(Job.id == bindparam("job_id"), _LOST).with_for_update(skip_locked=True)
_LOCK = select(Job).where(Job.id == bindparam("job_id")).with_for_update().options(lazyload(Job.results))


def claim(session: Session, job_id: str, settings: Settings | None = None) -> Job | None:
    """Take the job for one more attempt: queued → running, or a running job whose lease expired
    (its worker was lost; ``ATELIER_HEARTBEAT_TIMEOUT_SECONDS``) taken over at once. None when it
    is not claimable: another delivery holds it under a live lease, or it ended. A lost job out
    of attempts (``ATELIER_MAX_JOB_ATTEMPTS``) fails with ``WORKER_LOST`` instead.

    Upstream jobs are never taken over here: submitting again could start a second, paid job.
    """
    settings = settings or get_settings()
    now = datetime.now(UTC)
    stale_before = now - timedelta(seconds=settings.heartbeat_timeout_seconds)
    # One statement: the claim returns the claimed row (RETURNING), so nothing is read again.
    row = session.execute(_CLAIM, {"job_id": job_id, "now": now, "stale_before": stale_before,
                                   "max_attempts": settings.max_job_attempts},
                          execution_options={"populate_existing": True}).one_or_none()
    if row is None:  # out of attempts, if lost
        exhausted = session.scalars(_EXHAUSTED, {"job_id": job_id, "stale_before": stale_before}).one_or_none()
        if exhausted is not None:
            fail_lost(session, exhausted)
        return None
    job, previous_status = row
    if previous_status == "queued":  # a take-over is no news to the client: still running
        events.transition(session, job)
    return job


def fail_lost(session: Session, job: Job) -> None:
    fail(session, job, "WORKER_LOST", f"The worker running this job was lost {job.attempts} times.")


def report_progress(session: Session, job_id: str, progress: int | None, attempt: int | None = None) -> bool:
    """Record the heartbeat, and progress if given (it never goes backwards); False when the job is
    no longer running (cancelled), or, given ``attempt``, no longer running under that attempt
    (another worker took it over)."""
    values: dict[str, Any] = {"updated_at": datetime.now(UTC)}
    if progress is not None:
        values["progress"] = func.greatest(Job.progress, max(0, min(progress, 99)))
    previous = select(Job.progress).where(Job.id == job_id).scalar_subquery()
    fence = [Job.attempts == attempt] if attempt is not None else []
    row = session.execute(
        update(Job).where(Job.id == job_id, Job.status == "running", *fence).values(**values)
        .returning(Job.id, Job.status, Job.progress, previous.label("previous"))
    ).one_or_none()
    if row is None:
        return False
    if row.progress != row.previous:
        after_commit(session, lambda: events.publish_event(row.id, row.status, row.progress))
    return True


def lock_running(session: Session, job_id: str) -> Job | None:
    """The job, row-locked, if it is still running — the gate for completing or failing it."""
    job = session.scalars(_LOCK, {"job_id": job_id}).one_or_none()
    return job if job is not None and job.status == "running" else None


def complete(session: Session, job: Job, outputs: Sequence[Asset]) -> None:
    """Record results, price what was produced, settle credits and mark completed — one transaction.

    Lock order: the job row (locked by the caller), then the account row, then the inserts.
    """
    rules = _rules(job)
    actual = price(rules, modes.spec_for(job.mode).measure(job.params, outputs), job.params)
    settlement = ledger.settle(session, job.account_id, job.id, job.held_credits, actual.credits,
                               actual.breakdown)
    for asset in outputs:
        session.add(asset)
    job.status = "completed"
    job.progress = 100
    job.held_credits = 0
    job.credits_charged = settlement.charged
    job.pricing = {**(job.pricing or {}), "actual": actual.as_dict(),
                   **({"shortfall": settlement.shortfall} if settlement.shortfall else {})}
    job.completed_at = job.updated_at = datetime.now(UTC)
    session.flush()
    # The results are the rows just inserted (their defaults returned by the INSERT): no SELECT.
    set_committed_value(job, "results", sorted(outputs, key=lambda asset: asset.id))
    events.transition(session, job)


def _rules(job: Job) -> list[PriceRule]:
    """The rules the job was priced with at submit, so a catalog change never reprices it."""
    return [PriceRule(**rule) for rule in (job.pricing or {}).get("rules", [])]


def fail(session: Session, job: Job, code: str, message: str) -> None:
    """running/queued → failed, releasing the hold; nothing is charged."""
    ledger.release(session, job.account_id, job.id, job.held_credits, reason=f"job failed: {code}")
    job.status = "failed"
    job.held_credits = 0
    job.error = {"code": code, "message": message}
    job.completed_at = job.updated_at = datetime.now(UTC)
    session.flush()
    events.transition(session, job)


def is_terminal(job: Job) -> bool:
    return job.status in TERMINAL
