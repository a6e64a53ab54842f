"""The broker's visibility timeout follows the longest task time limit, overrides included."""

from __future__ import annotations

from shared.queue import celery_config, visibility_timeout
from shared.settings import Settings


def test_the_visibility_timeout_is_just_above_the_longest_time_limit():
    assert visibility_timeout(Settings()) == 900 + 60
    assert visibility_timeout(Settings(job_time_limits={"music": 1500})) == 1500 + 60
    assert visibility_timeout(Settings(job_time_limits={"text_to_video": 100, "image_to_video": 100})) == 600 + 60


def test_the_broker_is_configured_with_it(stack_env):
    assert celery_config()["broker_transport_options"]["visibility_timeout"] == 960
