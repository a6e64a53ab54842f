"""The mode registry: one entry per mode, request rules in the contract's error shape, time limits."""

from __future__ import annotations

import json
from typing import get_args

import pytest
import redis
from pydantic import ValidationError as PydanticValidationError

from shared import queue
from shared.catalog import BUILTIN
from shared.errors import PromptTooLong, ValidationError
from shared.jobs import modes
from shared.media.voices import VOICE_IDS, VoiceId
from shared.settings import Settings
from workers.providers.local import LocalProvider
from workers.providers.local.speech import ESPEAK_VOICES
from workers.providers.openai import VOICES as OPENAI_VOICES


def errors_of(body: dict) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as caught:
        modes.parse(body)
    return caught.value.details["errors"]


def test_every_mode_has_one_entry_and_a_local_model():
    assert set(get_args(modes.Mode)) == set(modes.MODES)
    local = {m.mode for m in BUILTIN if m.provider == "local"}
    assert set(LocalProvider().handlers()) == set(modes.MODES)
    for name, spec in modes.MODES.items():
        assert spec.name == name and get_args(spec.request.model_fields["mode"].annotation) == (name,)
        assert name in local and spec.pricing and spec.outputs
        assert spec.queue in queue.QUEUES


def test_missing_and_unknown_fields_name_the_field_and_the_mode():
    assert errors_of({"mode": "music"}) == [{"field": "prompt", "message": "is required for music"}]
    assert errors_of({"mode": "audio", "voice_text": "hi", "n": 2}) == [
        {"field": "n", "message": "is not accepted for audio"}]
    assert errors_of({"mode": "painting", "prompt": "x"})[0]["field"] == "mode"
    assert errors_of({"prompt": "x"})[0]["field"] == "mode"
    assert errors_of({"mode": "text_to_image", "prompt": "x", "size": "3x3"})[0]["field"] == "size"
    assert errors_of({"mode": "audio", "voice_text": "hi", "voice_id": "robot"})[0]["field"] == "voice_id"
    assert errors_of({"mode": "music", "prompt": "x", "duration_seconds": 48}) == [
        {"field": "duration_seconds", "message": "must be between 1 and 47"}]
    assert errors_of({"mode": "image_to_video", "input_image_asset_id": "ast_a", "audio_asset_id": "ast_b",
                      "voice_id": "narrator"}) == [{"field": "voice_id", "message": "only applies with voice_text"}]
    assert errors_of({"mode": "text_to_image", "prompt": "  "}) == [
        {"field": "prompt", "message": "must be a non-empty string"}]


def test_null_means_absent_and_defaults_are_filled():
    request = modes.parse({"mode": "audio", "voice_text": "hello", "negative_prompt": None, "voice_id": None})
    assert request.params() == {"voice_text": "hello", "voice_id": "narrator", "output_format": "mp3", "speed": 1.0}
    image = modes.parse({"mode": "text_to_image", "prompt": "a cat"}).params()
    assert image["n"] == 1 and image["size"] == "1024x1024" and isinstance(image["seed"], int)
    assert modes.parse({"mode": "image_to_image", "prompt": "p", "input_image_asset_id": "ast_a"}).params()[
        "strength"] == 0.6
    avatar = modes.parse({"mode": "image_to_video", "input_image_asset_id": "ast_a", "voice_text": "hi"})
    assert avatar.params()["voice_id"] == "narrator" and avatar.assets() == {"image": "ast_a"}
    # What the client sent, without defaults, is what an idempotency key fingerprints.
    assert avatar.given() == {"mode": "image_to_video", "input_image_asset_id": "ast_a", "voice_text": "hi"}


@pytest.mark.parametrize("field", ["prompt", "negative_prompt"])
def test_text_over_500_characters_is_prompt_too_long(field):
    body = {"mode": "text_to_image", "prompt": "x", field: "y" * 501, "n": 2}
    with pytest.raises(PromptTooLong) as caught:
        modes.parse(body)
    assert caught.value.details == {"field": field, "max_length": 500, "length": 501}


def test_every_provider_speaks_every_voice():
    assert set(VOICE_IDS) == set(get_args(VoiceId))
    assert set(ESPEAK_VOICES) == set(VOICE_IDS)
    assert set(OPENAI_VOICES) == set(VOICE_IDS)
    assert set(get_args(modes.AudioRequest.model_fields["voice_id"].annotation)) == set(VOICE_IDS)
    assert Settings(fal_voice_refs={"narrator": "https://v.example/n.wav"}).fal_voice_refs
    with pytest.raises(PydanticValidationError):
        Settings(fal_voice_refs={"robot": "https://v.example/r.wav"})


def test_time_limits_are_per_mode_and_settings_override_them():
    settings = Settings(job_time_limits={"text_to_video": 6, "music": 4})
    assert modes.MODES["text_to_image"].time_limits(settings) == (270.0, 300.0)
    assert modes.MODES["image_to_video"].time_limits(settings) == (870.0, 900.0)
    assert modes.MODES["text_to_video"].time_limits(settings) == (3.0, 6.0)
    assert modes.MODES["music"].time_limits(settings) == (2.0, 4.0)


def test_a_send_carries_its_time_limits(stack_env):
    name = "test.time-limits"
    queue.send(queue.RUN_JOB, ["job_x"], name, time_limits=(3.6, 4.0))
    client = redis.Redis.from_url(stack_env["ATELIER_REDIS_URL"])
    try:
        raw = client.lpop(stack_env["ATELIER_BROKER_PREFIX"] + name)
    finally:
        client.close()
    assert raw is not None
    headers = json.loads(raw)["headers"]
    assert headers["task"] == queue.RUN_JOB and headers["timelimit"] == [4.0, 3.6]


def test_speech_speed_and_formats():
    assert modes.parse({"mode": "audio", "voice_text": "hi", "speed": 4, "output_format": "pcm"}).params()[
        "speed"] == 4.0
    assert errors_of({"mode": "audio", "voice_text": "hi", "speed": 4.5})[0]["field"] == "speed"
    assert errors_of({"mode": "audio", "voice_text": "hi", "speed": True})[0]["field"] == "speed"
    assert errors_of({"mode": "music", "prompt": "x", "output_format": "ogg"})[0]["field"] == "output_format"
    slow = modes.spec_for("audio").estimate({"voice_text": "Hello there.", "speed": 0.25}, {})["voice"]
    assert slow == pytest.approx(4 * modes.spec_for("audio").estimate({"voice_text": "Hello there."}, {})["voice"],
                                 abs=0.02)
