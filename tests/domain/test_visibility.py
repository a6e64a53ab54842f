"""The broker's visibility timeout follows the longest task time limit, overrides included."""

from __future__ import annotations

from shared.jobs.modes import MODES
from shared.queue import celery_config, visibility_timeout
from shared.settings import Settings


def test_the_visibility_timeout_is_just_above_the_longest_time_limit():
    assert visibility_timeout(Settings()) == 900 + 60
    assert visibility_timeout(Settings(job_time_limits={"music": 1500})) == 1500 + 60
    # Cap every mode longer than 600 s (the video modes, however many there are): music's 600 leads.
    capped = {name: 100 for name, spec in MODES.items() if spec.time_limit > 600}
    assert capped, "some mode runs longer than 600 s"
    assert visibility_timeout(Settings(job_time_limits=capped)) == 600 + 60


def test_the_broker_is_configured_with_it(stack_env):
    assert celery_config()["broker_transport_options"]["visibility_timeout"] == 960
