"""The HTTP side every OpenAI-compatible media endpoint shares (the domain side is
``shared/compat.py``): reading the body, creating the job, waiting for it, and the 202.

A route built on it reads::

    @router.post("/generations", response_model=ImagesAnswer,
                 responses={**compat.ACCEPTED, **errors(*AUTHENTICATED, 402, 409, 413, 422)})
    async def generate(request: Request, body: ImageGenerationBody, principal: Auth, settings: AppSettings,
                       catalog: CatalogDep, storage: StorageDep, run_async: compat.RunAsync = False,
                       idempotency_key: compat.IdempotencyKey = None) -> Response | dict[str, Any]:
        job_request = images.generation_request(body)          # shared/: the translation
        job = await compat.run_job(request, principal, settings, lambda session: shared_compat.submit(
            session, storage, settings, catalog, principal.account_id, job_request,
            endpoint="POST /v1/images/generations", idempotency_key=idempotency_key,
            api_key_id=principal.key_id), wait=not run_async)
        if isinstance(job, Response):
            return job                                          # 202: still running
        return images.answer(job, settings, ...)                # shared/: the endpoint's body

What ``run_job`` guarantees: the job is created in its own short transaction (committed
before any waiting; the request then holds no database connection and no thread while it
sleeps on the job's events); ``X-Credits-Used``/``-Remaining``, ``X-Atelier-Job-Id`` and, on
an Idempotency-Key repeat, ``Idempotent-Replayed: true`` are on the answer; a job still
running after ``ATELIER_SYNC_WAIT_SECONDS`` (or at once with ``?async=true``) is a ``202``
with ``shared.compat.accepted`` and a ``Location`` to poll; a failed or cancelled job raises
``shared.compat.failure``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Annotated, Any, TypeVar

from fastapi import Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from api.schemas import JobAccepted
from api.transaction import report_credits
from api.waiting import read_job, wait_for_job
from shared import compat
from shared.accounts import Principal
from shared.db.session import session_scope
from shared.errors import ValidationError
from shared.idempotency import Outcome
from shared.jobs.requests import describe_errors
from shared.settings import Settings

#: ``?async=true``: answer ``202`` with the job at once instead of waiting for it.
RunAsync = Annotated[bool, Query(alias="async", description="Answer 202 with the job at once; poll "
                                                            "GET /v1/jobs/{id}.")]
#: The ``Idempotency-Key`` header, as on ``POST /v1/jobs`` (≤ 255 characters, kept 24 h).
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Repeat-safe creation: a "
                                              "repeat answers from the same job.")]
#: ``responses=`` entry of a compatible route for its ``202``.
ACCEPTED: dict[int | str, dict[str, Any]] = {202: {
    "model": JobAccepted, "description": "The job has not finished (`?async=true`, or still running at the "
                                         "synchronous wait limit): poll `GET /v1/jobs/{id}`; nothing is lost."}}

M = TypeVar("M", bound=BaseModel)
C = TypeVar("C", list[str], dict[str, str])
#: ``metadata[order]``: an item of an object field in a multipart body.
_ITEM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\[([^\[\]]+)\]")


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a 400 naming ``body``."""
    try:
        body = await request.json()
    except ValueError:
        raise ValidationError("The request body is not valid JSON.",
                              details={"errors": [{"field": "body", "message": "malformed JSON"}]}) from None
    if not isinstance(body, dict):
        raise ValidationError.field("body", "must be a JSON object")
    return body


async def form_body(request: Request, files: Collection[str], *, max_fields: int = 30
                    ) -> tuple[dict[str, Any], dict[str, UploadFile]]:
    """(fields, files) of a multipart request as the OpenAI SDK sends it. A file field may be
    named ``image`` or ``image[]``; ``files`` are the names (without ``[]``) allowed to carry a
    file, one each. A repeated text field ``x[]`` becomes a list under ``x``, and ``x[k]`` (how
    the SDK sends an object such as ``metadata``) the item ``k`` of an object under ``x``."""
    form = await request.form(max_files=len(files) or 1, max_fields=max_fields)
    fields: dict[str, Any] = {}
    uploads: dict[str, UploadFile] = {}
    for raw, value in form.multi_items():
        name = raw.removesuffix("[]")
        if isinstance(value, UploadFile):
            if name not in files:
                raise ValidationError.field(name, "is not accepted as a file")
            if name in uploads:
                raise ValidationError.field(name, "give one file")
            uploads[name] = value
        elif raw.endswith("[]"):
            _container(fields, name, list).append(value)
        elif match := _ITEM.fullmatch(raw):
            _container(fields, match[1], dict).setdefault(match[2], value)
        else:
            fields[name] = value
    return fields, uploads


def _container(fields: dict[str, Any], name: str, kind: type[C]) -> C:
    value = fields.setdefault(name, kind())
    if not isinstance(value, kind):
        raise ValidationError.field(name, "give it as one value or as items, not both")
    return value


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


def validate(model: type[M], fields: dict[str, Any], *, strict: bool | None = None) -> M:
    """``fields`` as ``model``; errors in the contract's shape, naming each field (an unknown
    one "is not accepted" when the model forbids extras). ``strict=False`` for multipart
    fields, which arrive as strings (``n=2``)."""
    try:
        return model.model_validate(fields, strict=strict)
    except PydanticValidationError as exc:
        raise describe_errors(exc.errors(), ()) from None


def create_in_transaction(request: Request, create: Callable[[Session], Outcome]) -> Outcome:
    """Run ``create`` in its own transaction (committed on return), reporting the credits it held."""
    with session_scope() as session:
        outcome = create(session)
        report_credits(request, session)
        return outcome


async def run_job(request: Request, principal: Principal, settings: Settings,
                  create: Callable[[Session], Outcome], *, wait: bool) -> dict[str, Any] | JSONResponse:
    """Create the job (``create`` runs in its own transaction, in a thread; it is normally a
    call of ``shared.compat.submit``), then wait for it up to ``settings.sync_wait_seconds``
    when ``wait``. Returns the completed job's view, or the ``202`` response with the job as it
    is; raises ``shared.compat.failure`` for a job that failed or was cancelled."""
    outcome = await run_in_threadpool(create_in_transaction, request, create)
    job_id = outcome.body["id"]
    headers: dict[str, str] = request.state.response_headers
    headers["X-Atelier-Job-Id"] = job_id
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    if wait and settings.sync_wait_seconds > 0:
        view = await wait_for_job(request, principal.account_id, job_id, settings.sync_wait_seconds)
    else:
        view = await run_in_threadpool(read_job, principal.account_id, job_id)  # as it is now, not as created
    if view["status"] in compat.PENDING:
        return JSONResponse(compat.accepted(view), status_code=202, headers={"Location": f"/v1/jobs/{job_id}"})
    if view["status"] != "completed":
        raise compat.failure(view)
    return view
