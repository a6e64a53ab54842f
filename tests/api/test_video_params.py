"""Video parameters end to end through POST /v1/jobs and the real worker: the clip decoded is
framed as asked, and priced 22 credits per started second; bad values are 400s naming the field."""

from __future__ import annotations

import pytest

from tests.api.test_modes import (
    breakdown,
    download,
    only_result,
    probe_video,
    refused_naming,
    run_job,
    submit,
    upload,
)
from tests.media_samples import mp4_bytes, png_bytes, wav_bytes
from tests.support import ledger_sum


def test_text_to_video_framing_and_loop(client, celery_worker, make_account):
    caller = make_account(plan="professional", credits=100)
    job = run_job(client, caller, mode="text_to_video", prompt="a calm sea at sunset", duration_seconds=2,
                  resolution="480p", fps=12, aspect_ratio="9:16", loop=True, negative_prompt="birds, clouds")
    assert {k: job["inputs"][k] for k in ("resolution", "fps", "aspect_ratio", "loop", "negative_prompt")} == {
        "resolution": "480p", "fps": 12, "aspect_ratio": "9:16", "loop": True, "negative_prompt": "birds, clouds"}
    asset = only_result(job)
    video = probe_video(download(client, caller, asset))
    assert (video["width"], video["height"]) == (asset["width"], asset["height"]) == (480, 854)
    assert video["duration"] == pytest.approx(2.0, abs=0.1)
    assert job["estimated_credits"] == job["credits_charged"] == 44
    assert ledger_sum(caller.account_id) == (56, 56)


def test_text_to_video_defaults_are_720p_16_9_at_24_fps(client, make_account):
    caller = make_account(plan="professional", credits=100)
    response = submit(client, caller, mode="text_to_video", prompt="rain over a city")
    assert response.status_code == 202, response.text
    inputs = response.json()["inputs"]
    assert (inputs["resolution"], inputs["fps"], inputs["aspect_ratio"], inputs["loop"]) == ("720p", 24, "16:9", False)
    assert response.json()["estimated_credits"] == 110


def test_image_to_video_without_a_voice_is_a_priced_camera_move(client, celery_worker, make_account):
    caller = make_account(plan="professional", credits=100)
    picture = upload(client, caller, "image", png_bytes(300, 200), "wide.png")
    job = run_job(client, caller, mode="image_to_video", input_image_asset_id=picture["id"], duration_seconds=3,
                  resolution="480p", fps=10, prompt="slow zoom out")
    assert job["inputs"]["duration_seconds"] == 3 and "aspect_ratio" not in job["inputs"]
    asset = only_result(job)
    video = probe_video(download(client, caller, asset))
    assert video["audio_codec"] is None
    assert (video["width"], video["height"]) == (720, 480)  # the picture's own 3:2 at 480p
    assert video["duration"] == pytest.approx(3.0, abs=0.15)
    assert job["estimated_credits"] == job["credits_charged"] == 66
    assert breakdown(job).get("voice", {"credits": 0})["credits"] == 0
    assert ledger_sum(caller.account_id) == (34, 34)


def test_video_to_video_restyles_an_uploaded_video(client, celery_worker, make_account):
    caller = make_account(plan="professional", credits=100)
    source = upload(client, caller, "video", mp4_bytes(seconds=2.0, fps=12), "square.mp4")
    assert source["duration_seconds"] == pytest.approx(2.0, abs=0.1)
    job = run_job(client, caller, mode="video_to_video", input_video_asset_id=source["id"], prompt="as a watercolor",
                  strength=0.7, seed=3)
    # Two seconds of source: 44 held, 44 charged.
    assert job["estimated_credits"] == job["credits_charged"] == 44
    asset = only_result(job)
    video = probe_video(download(client, caller, asset))
    assert (video["video_codec"], video["audio_codec"]) == ("h264", "aac")
    assert (video["width"], video["height"]) == (320, 240)
    assert video["duration"] == pytest.approx(2.0, abs=0.1)
    assert ledger_sum(caller.account_id) == (56, 56)

    shorter = run_job(client, caller, mode="video_to_video", input_video_asset_id=source["id"], prompt="noir",
                      duration_seconds=1, fps=8)
    assert shorter["estimated_credits"] == shorter["credits_charged"] == 22
    assert probe_video(download(client, caller, only_result(shorter)))["duration"] == pytest.approx(1.0, abs=0.1)


def test_audio_to_audio_reworks_an_uploaded_recording(client, celery_worker, make_account):
    caller = make_account(plan="professional", credits=10)
    source = upload(client, caller, "audio", wav_bytes(12.0, freq=330.0), "tone.wav")
    job = run_job(client, caller, mode="audio_to_audio", input_audio_asset_id=source["id"], prompt="jazz piano",
                  strength=0.7, seed=2)
    asset = only_result(job)
    assert (asset["kind"], asset["content_type"]) == ("audio", "audio/mpeg")
    assert asset["duration_seconds"] == pytest.approx(12.0, abs=0.2)  # the source's length
    assert job["estimated_credits"] == job["credits_charged"] == 2  # two started 10 s
    short = run_job(client, caller, mode="audio_to_audio", input_audio_asset_id=source["id"], prompt="synth",
                    duration_seconds=5, output_format="wav")
    assert only_result(short)["duration_seconds"] == pytest.approx(5.0, abs=0.05)
    assert short["credits_charged"] == 1
    assert ledger_sum(caller.account_id) == (7, 7)


def test_music_with_a_negative_prompt(client, celery_worker, make_account):
    caller = make_account(plan="professional", credits=10)
    job = run_job(client, caller, mode="music", prompt="fast drums and piano", negative_prompt="drums",
                  duration_seconds=4, seed=1)
    assert job["inputs"]["negative_prompt"] == "drums" and job["credits_charged"] == 1
    assert only_result(job)["duration_seconds"] == pytest.approx(4.0, abs=0.1)


def test_video_to_video_input_must_be_a_video(client, make_account):
    caller = make_account(plan="professional", credits=100)
    picture = upload(client, caller, "image", png_bytes(), "still.png")
    response = submit(client, caller, mode="video_to_video", input_video_asset_id=picture["id"], prompt="noir")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["errors"][0]["field"] == "input_video_asset_id"


@pytest.mark.parametrize(("body", "field"), [
    ({"mode": "video_to_video", "prompt": "noir"}, "input_video_asset_id"),
    ({"mode": "audio_to_audio", "prompt": "jazz"}, "input_audio_asset_id"),
    ({"mode": "audio_to_audio", "input_audio_asset_id": "ast_x", "prompt": "jazz", "duration_seconds": 48},
     "duration_seconds"),
    ({"mode": "audio_to_audio", "input_audio_asset_id": "ast_x", "prompt": "jazz", "strength": -0.1}, "strength"),
    ({"mode": "audio_to_audio", "input_audio_asset_id": "ast_x", "prompt": "jazz", "output_format": "ogg"},
     "output_format"),
    ({"mode": "video_to_video", "input_video_asset_id": "ast_x", "prompt": "noir", "strength": 1.5}, "strength"),
    ({"mode": "video_to_video", "input_video_asset_id": "ast_x", "prompt": "noir", "duration_seconds": 11},
     "duration_seconds"),
    ({"mode": "video_to_video", "input_video_asset_id": "ast_x", "prompt": "noir", "aspect_ratio": "1:1"},
     "aspect_ratio"),
    ({"mode": "video_to_video", "input_video_asset_id": "ast_x", "input_video_url": "https://example.com/v.mp4",
      "prompt": "noir"}, "input_video_asset_id"),
    ({"mode": "text_to_video", "prompt": "sea", "fps": 31}, "fps"),
    ({"mode": "text_to_video", "prompt": "sea", "fps": 7}, "fps"),
    ({"mode": "text_to_video", "prompt": "sea", "fps": 12.5}, "fps"),
    ({"mode": "text_to_video", "prompt": "sea", "resolution": "4k"}, "resolution"),
    ({"mode": "text_to_video", "prompt": "sea", "aspect_ratio": "2:1"}, "aspect_ratio"),
    ({"mode": "text_to_video", "prompt": "sea", "loop": "yes"}, "loop"),
    ({"mode": "text_to_video", "prompt": "sea", "negative_prompt": " "}, "negative_prompt"),
    ({"mode": "image_to_video", "input_image_asset_id": "ast_x", "voice_text": "hi", "duration_seconds": 3},
     "duration_seconds"),
    ({"mode": "image_to_video", "input_image_asset_id": "ast_x", "duration_seconds": 11}, "duration_seconds"),
    ({"mode": "image_to_video", "input_image_asset_id": "ast_x", "negative_prompt": "trees"}, "negative_prompt"),
])
def test_bad_video_parameters_are_400_naming_the_field(client, make_account, body, field):
    refused_naming(submit(client, make_account(), **body), field)
