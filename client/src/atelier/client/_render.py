"""What the CLI prints: tables, the job progress bar, friendly errors."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from atelier.client.errors import (
    APIConnectionError,
    AtelierError,
    InsufficientCredits,
    JobFailed,
    RateLimited,
    ValidationError,
)
from atelier.client.models import JobEvent

out = Console()
err = Console(stderr=True)


def as_json(value: Any) -> None:
    out.print_json(json.dumps(value, default=str))


def table(title: str, columns: list[str], rows: Iterable[list[Any]]) -> None:
    grid = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        grid.add_column(column, no_wrap=i == 0)  # ids are copied from here: never broken
    for row in rows:
        grid.add_row(*(_cell(cell) for cell in row))
    out.print(grid)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


@contextmanager
def job_progress(job_id: str, enabled: bool = True) -> Iterator[Any]:
    """A progress bar fed by job events: status, percent, elapsed time, credits held then charged."""
    progress = Progress(TextColumn("[bold]{task.fields[status]:<9}"), BarColumn(), TaskProgressColumn(),
                        TimeElapsedColumn(), TextColumn("{task.fields[credits]}"), console=err,
                        disable=not enabled, transient=False)
    task = progress.add_task(job_id, total=100, status="queued", credits="")
    started = time.monotonic()

    def update(event: JobEvent) -> None:
        job = event.job
        credits = (f"{job.credits_charged} credits charged" if job.status == "completed"
                   else f"~{job.estimated_credits} credits held")
        progress.update(task, completed=100 if job.status == "completed" else job.progress,
                        status=job.status, credits=credits)

    with progress:
        yield update
    if enabled:
        err.print(f"[dim]{job_id} finished in {time.monotonic() - started:.1f}s[/dim]")


def explain(error: AtelierError) -> str:
    """One or two sentences a person can act on."""
    if isinstance(error, InsufficientCredits):
        return (f"Not enough credits: this costs {error.required} credits and {error.available} are left. "
                "Top up or change plan, then try again.")
    if isinstance(error, JobFailed):
        return f"Job {error.job.id} {error.job.status}: {error.message} ({error.code})"
    if isinstance(error, RateLimited):
        after = error.retry_after
        return f"{error.message}" + (f" Try again in {after:.0f}s." if after else "")
    if isinstance(error, ValidationError) and error.errors:
        fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in error.errors)
        return f"{error.message} ({fields})"
    if isinstance(error, APIConnectionError) or error.status is None:
        return error.message
    return f"{error.message} ({error.status} {error.code})"
