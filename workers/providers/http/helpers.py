"""Small helpers the adapters share: progress from logs, sizes and ratios, poll outcomes."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from math import gcd
from typing import ParamSpec

from workers.providers.base import PollResult, ProviderError

P = ParamSpec("P")

_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s?%")
_STEPS = re.compile(r"\b(\d+)\s*/\s*(\d+)\s*\[")


def percent_from_logs(text: str) -> float | None:
    """The last progress figure in model logs (tqdm's ``45%|████`` or ``9/20 [``)."""
    for line in reversed(text.splitlines()):
        found = [float(v) for v in _PERCENT.findall(line) if float(v) <= 100]
        if found:
            return found[-1]
        steps = _STEPS.findall(line)
        if steps:
            done, total = (int(v) for v in steps[-1])
            if total:
                return min(100.0, 100.0 * done / total)
    return None


def parse_size(size: str) -> tuple[int, int]:
    width, _, height = size.lower().partition("x")
    return int(width), int(height)


def exact_aspect_ratio(width: int, height: int) -> str:
    """width/height as ``w:h`` in lowest terms (1792x1024 → 7:4)."""
    divisor = gcd(width, height) or 1
    return f"{width // divisor}:{height // divisor}"


def unsupported_mode(provider: str, mode: str) -> ProviderError:
    return ProviderError(f"the {provider} adapter does not support mode {mode!r}")


def poll_outcome(poll: Callable[P, PollResult]) -> Callable[P, PollResult]:
    """For an adapter's ``poll``: a retryable error propagates (the runner polls again
    later); any other provider error ends the job as a failed ``PollResult``."""

    @functools.wraps(poll)
    def settled(*args: P.args, **kwargs: P.kwargs) -> PollResult:
        try:
            return poll(*args, **kwargs)
        except ProviderError as error:
            if error.retryable:
                raise
            return PollResult(state="failed", error=error)

    return settled

