"""The small interface between the job runner and whatever produces media.

Two shapes of provider exist:

* ``Provider.generate`` renders in the worker process and returns files (the offline
  ``local`` provider).
* ``UpstreamProvider`` submits to a remote model service and is *polled* by short,
  re-scheduled tasks, so a long upstream job never pins a worker slot.

Both write their outputs as files under ``ctx.workdir``; the runner streams them to
storage, probes them (dimensions, real duration) and prices what was produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from shared.errors import JobAborted, ProviderError
from shared.jobs.modes import Mode
from shared.media.probe import MediaInfo

__all__ = ["JobAborted", "ProviderError"]  # the error family lives in shared.errors



class UpstreamRejected(ProviderError):
    """The upstream refused the request (4xx): the job fails with the provider's message."""

    code = "UPSTREAM_REJECTED"


class UpstreamUnavailable(ProviderError):
    """429, 5xx, timeouts, connection errors: worth retrying, then falling back."""

    code = "UPSTREAM_UNAVAILABLE"
    retryable = True


class GenerationFailed(ProviderError):
    """The provider accepted the job but it failed while generating."""

    code = "GENERATION_FAILED"


@dataclass(frozen=True)
class InputFile:
    """An input asset, downloaded to a local file; ``url`` is a short-lived signed URL when one exists."""

    role: Literal["image", "audio", "video"]
    asset_id: str
    kind: str
    content_type: str
    path: Path
    url: str | None = None
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class GenerationRequest:
    job_id: str
    mode: Mode
    model: str
    provider_model: str
    prompt: str | None
    #: Validated job inputs: n, size, seed, negative_prompt, strength, voice_id, voice_text,
    #: duration_seconds, output_format — whichever the mode takes.
    params: Mapping[str, Any]
    inputs: Mapping[str, InputFile] = field(default_factory=dict)


@dataclass
class Output:
    path: Path
    content_type: str
    kind: Literal["image", "audio", "video", "text"]
    #: What the provider knows of the file because it encoded it itself from its own pixels (the
    #: local renderer's images): stored as is. None, as for anything from an upstream: probed and
    #: decoded in full before it is stored (``workers.runner.store_outputs``).
    known: MediaInfo | None = None


class JobContext(Protocol):
    workdir: Path

    def progress(self, percent: float) -> None:
        """Report 0–100 progress; raises ``JobAborted`` if the job was cancelled meanwhile."""

    def check_cancelled(self) -> None:
        """Raise ``JobAborted`` if the job was cancelled."""


class Provider(Protocol):
    name: str

    def generate(self, request: GenerationRequest, ctx: JobContext) -> list[Output]: ...


@dataclass
class UpstreamHandle:
    """What we keep (in the job row, as JSON) about a request the upstream accepted."""

    provider: str
    request_id: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class PollResult:
    state: Literal["pending", "completed", "failed"]
    progress: float | None = None
    outputs: list[Output] = field(default_factory=list)
    error: ProviderError | None = None


class UpstreamProvider(Protocol):
    name: str

    def submit(self, request: GenerationRequest) -> UpstreamHandle:
        """Send the job upstream. Raises UpstreamUnavailable (retry/fallback) or UpstreamRejected."""

    def poll(self, handle: UpstreamHandle, ctx: JobContext) -> PollResult:
        """One status check; on completion downloads the outputs into ``ctx.workdir``."""

    def cancel(self, handle: UpstreamHandle) -> None:
        """Ask the upstream to cancel; best effort."""
