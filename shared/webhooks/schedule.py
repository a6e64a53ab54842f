"""When a failed webhook delivery is tried again."""

from __future__ import annotations

import random
from datetime import timedelta

# Delay before each attempt, counted from the previous one; the first goes out at once.
ATTEMPT_DELAYS: tuple[timedelta, ...] = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(ATTEMPT_DELAYS)
JITTER = 0.10  # +/-10 %, so receivers that failed together are not all retried together


def next_attempt_delay(attempt_number: int, rng: random.Random | None = None) -> timedelta | None:
    """How long to wait after attempt ``attempt_number`` (1-based) failed; None once exhausted."""
    if attempt_number < 1:
        raise ValueError("attempt_number starts at 1")
    if attempt_number >= MAX_ATTEMPTS:
        return None
    base = ATTEMPT_DELAYS[attempt_number].total_seconds()
    factor = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return timedelta(seconds=max(0.0, base * factor))
