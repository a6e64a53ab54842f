"""The rules table prices requests as the contract's pricing table says."""

from __future__ import annotations

import pytest

from shared.credits.pricing import price
from shared.jobs.modes import rules_for


def credits(mode: str, usage: dict[str, float], inputs: dict | None = None) -> int:
    return price(rules_for(mode), usage, inputs or {}).credits


def test_images_cost_one_credit_each():
    assert credits("text_to_image", {"image": 3}) == 3
    assert credits("image_to_image", {"image": 1}) == 1


@pytest.mark.parametrize(("seconds", "expected"), [
    (9.99, 1),
    (10.04, 1),  # encoder padding within the 0.05 s tolerance does not start a new unit
    (10.06, 2),
    (10.2, 2),
])
def test_voice_is_charged_per_started_ten_seconds(seconds, expected):
    assert credits("audio", {"voice": seconds}) == expected


def test_music_is_charged_per_started_ten_seconds():
    assert credits("music", {"music": 30}) == 3


@pytest.mark.parametrize("mode", ["text_to_video", "image_to_video"])
@pytest.mark.parametrize(("seconds", "expected"), [(5.0, 110), (5.3, 132)])
def test_video_is_charged_per_started_second(mode, seconds, expected):
    assert credits(mode, {"video": seconds}) == expected


def test_image_to_video_with_voice_text_adds_a_voice_line():
    result = price(rules_for("image_to_video"), {"video": 5.3, "voice": 5.3}, {"voice_text": "hello"})
    assert result.credits == 132 + 1
    assert [line["component"] for line in result.breakdown] == ["video", "voice"]


def test_image_to_video_with_uploaded_audio_has_no_voice_line():
    result = price(rules_for("image_to_video"), {"video": 5.3, "voice": 0.0}, {"audio_asset_id": "ast_x"})
    assert result.credits == 132
    assert [line["component"] for line in result.breakdown] == ["video"]


@pytest.mark.parametrize(("mode", "component"), [("text_to_image", "image"), ("audio", "voice"),
                                                 ("music", "music"), ("text_to_video", "video")])
def test_zero_quantity_costs_nothing(mode, component):
    assert credits(mode, {component: 0}) == 0


def test_breakdown_lines_describe_each_component():
    result = price(rules_for("text_to_video"), {"video": 5.3}, {})
    assert result.breakdown == [{"component": "video", "unit": "second", "quantity": 5.3, "units": 6,
                                 "per": 1, "credits_per_unit": 22, "credits": 132}]
    assert result.as_dict() == {"credits": 132, "breakdown": result.breakdown}
