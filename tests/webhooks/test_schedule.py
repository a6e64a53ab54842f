"""The retry schedule: 8 attempts, growing gaps, +/-10 % jitter."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from shared.webhooks.schedule import MAX_ATTEMPTS, next_attempt_delay

BASE = [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
        timedelta(hours=5), timedelta(hours=10), timedelta(hours=10)]


def test_eight_attempts_then_none() -> None:
    assert MAX_ATTEMPTS == 8
    assert next_attempt_delay(8) is None
    assert next_attempt_delay(9) is None


@pytest.mark.parametrize("attempt", range(1, 8))
def test_delay_is_the_schedule_with_ten_percent_jitter(attempt: int) -> None:
    rng = random.Random(attempt)
    base = BASE[attempt - 1]
    for _ in range(200):
        delay = next_attempt_delay(attempt, rng)
        assert delay is not None
        assert base * 0.9 <= delay <= base * 1.1


def test_jitter_actually_varies() -> None:
    rng = random.Random(7)
    assert len({next_attempt_delay(3, rng) for _ in range(20)}) > 1


def test_deterministic_with_a_seeded_random() -> None:
    first = [next_attempt_delay(n, random.Random(42)) for n in range(1, 9)]
    second = [next_attempt_delay(n, random.Random(42)) for n in range(1, 9)]
    assert first == second


def test_attempt_numbers_start_at_one() -> None:
    with pytest.raises(ValueError):
        next_attempt_delay(0)
