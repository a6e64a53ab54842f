"""Every media mode end to end through the real worker: submit, wait, download, decode, pay.

Results are decoded (Pillow for images, PyAV for audio and video) rather than trusted from
the asset's metadata, and the credits charged are recomputed from the measured durations.
"""

from __future__ import annotations

import hashlib
import io
import json
import math

import av
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from shared.credits import ledger
from shared.credits.pricing import SECONDS_TOLERANCE
from shared.db.models import Account, LedgerEntry, Plan
from shared.db.session import session_scope
from tests.media_samples import png_bytes, wav_bytes
from tests.support import ledger_sum, wait_for_job

SENTENCE = "The quick brown fox jumps over the lazy dog. Then it naps in the sun."
#: RMS (of samples in [-1, 1]) that only silence or near-silence falls below.
SILENCE_RMS = 0.01


# -- helpers -------------------------------------------------------------------------------

def submit(client, caller, **body):
    return client.post("/v1/jobs", json=body, headers=caller.headers)


def run_job(client, caller, **body) -> dict:
    """Submit a job, wait for it, and return it completed."""
    response = submit(client, caller, **body)
    assert response.status_code == 202, response.text
    job = wait_for_job(client, caller, response.json()["id"])
    assert job["status"] == "completed", job
    return job


def upload(client, caller, kind: str, data: bytes, filename: str) -> dict:
    response = client.post("/v1/assets", data={"kind": kind}, files={"file": (filename, data)},
                           headers=caller.headers)
    assert response.status_code == 201, response.text
    return response.json()


def only_result(job: dict) -> dict:
    assets = job["result"]["assets"]
    assert len(assets) == 1
    return assets[0]


def download(client, caller, asset: dict) -> bytes:
    response = client.get(f"/v1/assets/{asset['id']}/content", headers=caller.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == asset["content_type"]
    assert hashlib.sha256(response.content).hexdigest() == asset["sha256"]
    return response.content


def decode_audio(data: bytes) -> tuple[np.ndarray, float]:
    """All samples of the first audio stream as float (channels × n), and their duration."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        frames = [frame.to_ndarray() for frame in container.decode(stream)]
        rate = stream.codec_context.sample_rate
    samples = np.concatenate(frames, axis=1)
    if samples.dtype == np.int16:  # WAV decodes to 16-bit integers, MP3 to floats in [-1, 1]
        return samples / 32768.0, samples.shape[1] / rate
    return samples.astype(np.float64), samples.shape[1] / rate


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples**2)))


def probe_video(data: bytes) -> dict:
    """Codecs, size and duration of an MP4; the duration counts the frames actually decoded."""
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frames = sum(1 for _ in container.decode(video))
        return {"video_codec": video.codec_context.name, "width": video.codec_context.width,
                "height": video.codec_context.height, "duration": float(frames / video.average_rate),
                "audio_codec": audio.codec_context.name if audio else None}


def follow_events(client, caller, job_id: str) -> list[dict]:
    """Every Job sent over the job's SSE stream, which ends by itself at a terminal state."""
    with client.stream("GET", f"/v1/jobs/{job_id}/events", headers=caller.headers) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        return [json.loads(line[len("data:"):]) for line in stream.iter_lines() if line.startswith("data:")]


def started(seconds: float, per: int) -> int:
    """Started units of ``per`` seconds, with the encoder-padding tolerance the pricing allows."""
    return math.ceil(max(seconds - SECONDS_TOLERANCE, 1e-9) / per)


def breakdown(job: dict) -> dict[str, dict]:
    return {line["component"]: line for line in job["pricing"]["actual"]["breakdown"]}


# -- images --------------------------------------------------------------------------------

@pytest.mark.parametrize("size", ["512x512", "1024x1024", "1792x1024", "1024x1792"])
def test_text_to_image_sizes_with_a_negative_prompt(client, celery_worker, make_account, size):
    caller = make_account(plan="professional", credits=5)
    job = run_job(client, caller, mode="text_to_image", prompt="a snowy mountain lake", size=size, n=1,
                  negative_prompt="people, text")
    assert job["inputs"]["negative_prompt"] == "people, text"
    asset = only_result(job)
    width, height = map(int, size.split("x"))
    assert (asset["width"], asset["height"]) == (width, height)
    image = Image.open(io.BytesIO(download(client, caller, asset)))
    assert image.format == "PNG" and image.size == (width, height)
    assert job["credits_charged"] == 1


def test_image_to_image_keeps_aspect_ratio_and_follows_strength(client, celery_worker, make_account):
    caller = make_account(plan="professional", credits=10)
    source = upload(client, caller, "image", png_bytes(300, 200), "wide.png")
    outputs = []
    for strength in (0.3, 0.9):
        job = run_job(client, caller, mode="image_to_image", prompt="a starry night sky",
                      input_image_asset_id=source["id"], strength=strength, seed=11)
        assert job["inputs"]["strength"] == strength and job["credits_charged"] == 1
        data = download(client, caller, only_result(job))
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG"
        assert image.width / image.height == pytest.approx(300 / 200, rel=0.01)
        outputs.append(data)
    # Same input, prompt and seed: only the strength differs, so must the pictures.
    assert outputs[0] != outputs[1]
    assert ledger_sum(caller.account_id) == (8, 8)


# -- audio ---------------------------------------------------------------------------------

def check_speech(client, caller, job: dict, content_type: str) -> bytes:
    """The spoken result decodes, lasts what the asset says, is audible and is priced by its length."""
    asset = only_result(job)
    assert (asset["kind"], asset["content_type"]) == ("audio", content_type)
    data = download(client, caller, asset)
    samples, seconds = decode_audio(data)
    assert seconds > 0.5
    assert seconds == pytest.approx(asset["duration_seconds"], abs=0.15)
    assert rms(samples) > SILENCE_RMS
    assert job["credits_charged"] == started(asset["duration_seconds"], 10) == 1
    assert job["estimated_credits"] >= job["credits_charged"]
    assert breakdown(job)["voice"]["credits"] == job["credits_charged"]
    return data


def test_audio_speaks_in_the_requested_voice(client, celery_worker, make_account):
    caller = make_account(plan="professional", credits=10)
    files = {}
    for voice_id in ("casual_male", "news_anchor"):
        job = run_job(client, caller, mode="audio", voice_text=SENTENCE, voice_id=voice_id)
        assert job["inputs"]["voice_id"] == voice_id
        files[voice_id] = check_speech(client, caller, job, "audio/mpeg")
    assert files["casual_male"] != files["news_anchor"]
    assert ledger_sum(caller.account_id) == (8, 8)


def test_audio_as_wav(client, celery_worker, make_account):
    caller = make_account(plan="professional", credits=10)
    job = run_job(client, caller, mode="audio", voice_text=SENTENCE, voice_id="casual_female",
                  output_format="wav")
    data = check_speech(client, caller, job, "audio/wav")
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def test_music_lasts_as_asked_and_follows_the_prompt(client, celery_worker, make_account):
    caller = make_account(plan="professional", credits=10)
    digests = []
    for prompt in ("calm piano", "fast drums"):
        job = run_job(client, caller, mode="music", prompt=prompt, duration_seconds=12, seed=5)
        asset = only_result(job)
        assert (asset["kind"], asset["content_type"]) == ("audio", "audio/mpeg")
        samples, seconds = decode_audio(download(client, caller, asset))
        assert seconds == pytest.approx(12, abs=0.3)
        assert samples.shape[0] in (1, 2) and rms(samples) > SILENCE_RMS
        # 12 s is two started 10 s units.
        assert job["estimated_credits"] == job["credits_charged"] == 2
        digests.append(asset["sha256"])
    assert digests[0] != digests[1]
    assert ledger_sum(caller.account_id) == (6, 6)


# -- video ---------------------------------------------------------------------------------

def test_image_to_video_with_voice_text(client, celery_worker, make_account):
    caller = make_account(plan="professional", credits=500)
    portrait = upload(client, caller, "image", png_bytes(320, 240), "face.png")
    response = submit(client, caller, mode="image_to_video", input_image_asset_id=portrait["id"],
                      voice_text=SENTENCE, voice_id="narrator")
    assert response.status_code == 202, response.text
    # The longest job here (a few seconds of rendering), so its progress is reported on the way;
    # the worker writes progress at most every 0.5 s.
    events = follow_events(client, caller, response.json()["id"])
    assert events[-1]["status"] == "completed"
    assert any(e["status"] == "running" and 0 < e["progress"] < 100 for e in events), events

    job = wait_for_job(client, caller, response.json()["id"])
    asset = only_result(job)
    assert (asset["kind"], asset["content_type"]) == ("video", "video/mp4")
    video = probe_video(download(client, caller, asset))
    assert (video["video_codec"], video["audio_codec"]) == ("h264", "aac")
    assert video["width"] % 2 == 0 and video["height"] % 2 == 0
    assert (video["width"], video["height"]) == (asset["width"], asset["height"])
    seconds = asset["duration_seconds"]
    assert video["duration"] == pytest.approx(seconds, abs=0.3)
    # The clip lasts as long as the voice: both are priced on the same measured seconds.
    lines = breakdown(job)
    assert lines["video"]["units"] == started(seconds, 1) and lines["voice"]["units"] == started(seconds, 10)
    assert job["credits_charged"] == 22 * started(seconds, 1) + started(seconds, 10)
    assert lines["video"]["credits"] + lines["voice"]["credits"] == job["credits_charged"]
    assert job["estimated_credits"] >= job["credits_charged"]  # the speech estimate leans long
    assert ledger_sum(caller.account_id) == (500 - job["credits_charged"],) * 2


def test_image_to_video_with_an_uploaded_audio_track(client, celery_worker, make_account):
    caller = make_account(plan="professional", credits=500)
    portrait = upload(client, caller, "image", png_bytes(200, 300), "tall.png")
    track = upload(client, caller, "audio", wav_bytes(2.0), "tone.wav")
    assert track["duration_seconds"] == pytest.approx(2.0, abs=0.01)
    job = run_job(client, caller, mode="image_to_video", input_image_asset_id=portrait["id"],
                  audio_asset_id=track["id"])
    asset = only_result(job)
    video = probe_video(download(client, caller, asset))
    assert (video["video_codec"], video["audio_codec"]) == ("h264", "aac")
    assert video["height"] > video["width"]  # the portrait picture's orientation is kept
    assert video["duration"] == pytest.approx(2.0, abs=0.3)
    assert asset["duration_seconds"] == pytest.approx(2.0, abs=0.3)
    # No voice was synthesized, so none is charged.
    assert breakdown(job).get("voice", {"credits": 0})["credits"] == 0
    assert job["credits_charged"] == 44
    assert ledger_sum(caller.account_id) == (456, 456)


def test_text_to_video_is_priced_per_second(client, celery_worker, make_account):
    caller = make_account(plan="professional", credits=500)
    job = run_job(client, caller, mode="text_to_video", prompt="a city skyline at night", duration_seconds=2)
    assert job["estimated_credits"] == 44
    asset = only_result(job)
    video = probe_video(download(client, caller, asset))
    assert video["video_codec"] == "h264"
    assert (video["width"], video["height"]) == (1280, 720)
    assert video["duration"] == pytest.approx(2.0, abs=0.2)
    assert job["credits_charged"] == 44 and breakdown(job)["video"]["units"] == 2
    assert ledger_sum(caller.account_id) == (456, 456)


# -- credits -------------------------------------------------------------------------------

def test_video_over_the_balance_is_402_with_its_breakdown(client, make_account):
    caller = make_account(plan="free", credits=5)
    response = submit(client, caller, mode="text_to_video", prompt="waves on a beach", duration_seconds=10)
    assert response.status_code == 402, response.text
    error = response.json()["error"]
    assert error["code"] == "INSUFFICIENT_CREDITS"
    assert error["details"]["required"] == 220 and error["details"]["available"] == 5
    line = error["details"]["breakdown"][0]
    assert (line["component"], line["units"], line["credits"]) == ("video", 10, 220)
    assert client.get("/v1/jobs", headers=caller.headers).json()["data"] == []


def ledger_kinds(account_id: str, job_id: str) -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(LedgerEntry.kind).where(
            LedgerEntry.account_id == account_id, LedgerEntry.job_id == job_id).order_by(LedgerEntry.id)))


def account_row(account_id: str) -> Account:
    with session_scope() as session:
        account = session.get(Account, account_id)
        assert account is not None
        session.expunge(account)
        return account


def test_settlement_above_the_hold_charges_only_what_a_free_plan_can_pay(make_account):
    caller = make_account(plan="free", credits=5)
    with session_scope() as session:
        ledger.hold(session, caller.account_id, "job_test_shortfall", 3, [])
    with session_scope() as session:
        result = ledger.settle(session, caller.account_id, "job_test_shortfall", 3, 10, [])
    # Balance 5 with nothing else held, and no overage on the free plan: 5 of the 10 are paid.
    assert (result.charged, result.shortfall) == (5, 5)
    account = account_row(caller.account_id)
    assert (account.balance, account.held) == (0, 0)
    assert ledger_sum(caller.account_id) == (0, 0)
    assert ledger_kinds(caller.account_id, "job_test_shortfall") == ["hold", "release", "charge", "shortfall"]


def test_settlement_above_the_hold_uses_overage_up_to_its_limit(make_account):
    caller = make_account(plan="starter", credits=10)
    with session_scope() as session:
        limit = session.get(Plan, "starter").overage_limit_credits  # type: ignore[union-attr]
    assert limit == 1000
    assert account_row(caller.account_id).overage_credits_period == 0
    with session_scope() as session:
        ledger.hold(session, caller.account_id, "job_test_overage", 3, [])
    with session_scope() as session:
        result = ledger.settle(session, caller.account_id, "job_test_overage", 3, 2000, [])
    # 10 from the balance, then down to -limit; the rest is a shortfall, not more debt.
    assert (result.charged, result.shortfall) == (10 + limit, 2000 - 10 - limit)
    account = account_row(caller.account_id)
    assert (account.balance, account.held) == (-limit, 0)
    assert account.overage_credits_period == limit
    assert ledger_sum(caller.account_id) == (-limit, -limit)


# -- catalog -------------------------------------------------------------------------------

def test_voices_list_the_contract_voices(client, make_account):
    caller = make_account()
    response = client.get("/v1/voices", headers=caller.headers)
    assert response.status_code == 200, response.text
    voices = response.json()["data"]
    assert all(voice["object"] == "voice" and voice["name"] for voice in voices)
    assert {"casual_male", "casual_female", "narrator", "news_anchor"} <= {voice["id"] for voice in voices}


def test_models_have_one_local_default_per_mode_priced_per_contract(client, make_account):
    caller = make_account()
    models = client.get("/v1/models", headers=caller.headers).json()["data"]
    image = [{"component": "image", "unit": "image", "per": 1, "credits": 1}]
    video = {"component": "video", "unit": "second", "per": 1, "credits": 22}
    expected = {
        "text_to_image": image,
        "image_to_image": image,
        "audio": [{"component": "voice", "unit": "second", "per": 10, "credits": 1}],
        "music": [{"component": "music", "unit": "second", "per": 10, "credits": 1}],
        "image_to_video": [video, {"component": "voice", "unit": "second", "per": 10, "credits": 1,
                                   "when": "voice_text"}],
        "text_to_video": [video],
    }
    for mode, pricing in expected.items():
        defaults = [m for m in models if m["mode"] == mode and m["default"]]
        assert len(defaults) == 1, (mode, defaults)
        assert defaults[0]["provider"] == "local" and defaults[0]["pricing"] == pricing


# -- validation ----------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    ({"mode": "music", "prompt": "jazz", "duration_seconds": 48}, "duration_seconds"),
    ({"mode": "text_to_video", "prompt": "rain", "duration_seconds": 11}, "duration_seconds"),
    ({"mode": "image_to_video", "input_image_asset_id": "ast_x", "voice_text": "hi",
      "audio_asset_id": "ast_y"}, "voice_text"),
])
def test_out_of_range_requests_are_400(client, make_account, body, field):
    refused_naming(submit(client, make_account(), **body), field)


def refused_naming(response, field: str) -> None:
    """A 400 VALIDATION_ERROR that names ``field`` among its errors."""
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in {e["field"] for e in error["details"]["errors"]}


def test_voice_text_over_500_characters_is_prompt_too_long(client, make_account):
    caller = make_account()
    response = submit(client, caller, mode="audio", voice_text="a" * 501)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "PROMPT_TOO_LONG" and error["details"]["max_length"] == 500
