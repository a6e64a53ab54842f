"""Structured logs: one JSON object per line (``ATELIER_LOG_FORMAT=json``, the default) or plain text
(``text``, for development), each record carrying what it is about: ``request_id``, ``account_id``,
``job_id`` and the Celery ``task_id``.

The ids live in one context variable holding a dict. The API's middleware opens it per request;
dependencies add to it (the dict is shared by the copies of the context that FastAPI's thread pool
makes, so an id bound there is seen by the whole request). ``shared.queue.send`` copies it into a
header of every task, and the worker opens it again around each task with the task's own id.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

FIELDS = ("request_id", "account_id", "job_id", "task_id")
HEADER = "atelier_log_context"  # the task message header that carries the ids to the worker

_CONTEXT: ContextVar[dict[str, str] | None] = ContextVar("atelier_log_context", default=None)


def current() -> dict[str, str]:
    return dict(_CONTEXT.get() or {})


def bind(**ids: str | None) -> None:
    """Add ids to the open context (or open one)."""
    context = _CONTEXT.get()
    if context is None:
        context = {}
        _CONTEXT.set(context)
    context.update({k: v for k, v in ids.items() if v and k in FIELDS})


@contextmanager
def scope(**ids: str | None) -> Iterator[dict[str, str]]:
    """A fresh context for one request or task."""
    context = {k: v for k, v in ids.items() if v and k in FIELDS}
    token = _CONTEXT.set(context)
    try:
        yield context
    finally:
        _CONTEXT.reset(token)


def enter(**ids: str | None) -> None:
    """Replace the context (a worker, at the start of a task; ``enter()`` clears it after)."""
    _CONTEXT.set({k: v for k, v in ids.items() if v and k in FIELDS})


_base_factory = logging.getLogRecordFactory()


def _record_with_ids(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    context = _CONTEXT.get() or {}
    for field in FIELDS:
        setattr(record, field, context.get(field))
    return record


# At creation, in the thread that logs: every handler (and pytest's caplog) sees the ids.
if getattr(logging.getLogRecordFactory(), "__name__", "") != _record_with_ids.__name__:
    logging.setLogRecordFactory(_record_with_ids)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = " ".join(f"{f}={getattr(record, f)}" for f in FIELDS if getattr(record, f, None))
        return f"{line} [{ids}]" if ids else line


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "text":
        return TextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    return JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s " + " ".join(f"%({f})s" for f in FIELDS),
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})


def configure(fmt: str, level: str) -> None:
    """The process's root handler (API, worker, beat); uvicorn's and Celery's loggers propagate to it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
