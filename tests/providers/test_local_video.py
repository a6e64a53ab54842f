"""The local provider's video, and cancellation and errors across modes."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from shared.media.probe import probe
from tests.providers.local_support import (
    SPEECH,
    FakeContext,
    generate,
    image_input,
    video_streams,
)
from workers.providers.base import GenerationFailed, InputFile, JobAborted

# video -------------------------------------------------------------------------------------------


def test_image_to_video_with_voice_text(tmp_path: Path, portrait: Path) -> None:
    text = "Hello there. Nice to meet you."
    out = generate(tmp_path, "image_to_video", None, {"voice_text": text, "voice_id": "casual_female"},
                   {"image": image_input(portrait)})
    assert (out[0].content_type, out[0].kind) == ("video/mp4", "video")
    info = video_streams(out[0].path)
    assert info["video"]["codec"] == "h264" and info["audio"]["codec"] == "aac"
    width, height = info["video"]["width"], info["video"]["height"]
    assert width % 2 == 0 and height % 2 == 0
    assert (width, height) == (720, 900)  # 640×800 fitted to 720 wide (portrait 720p box: 720×1280)
    assert info["video"]["fps"] in (24, 25)
    voice = generate(tmp_path / "voice", "audio", None, {"voice_text": text, "voice_id": "casual_female",
                                                         "output_format": "wav"})
    voice_seconds = probe(voice[0].path, "audio").duration_seconds
    assert abs(info["duration"] - voice_seconds) < 0.15
    frames = info["video"]["frames"]
    assert float(np.abs(frames[0].astype(np.float32) - frames[-1]).mean()) > 0.5  # it moves


def test_image_to_video_with_uploaded_audio(tmp_path: Path, portrait: Path) -> None:
    upload = tmp_path / "voice.ogg"
    with av.open(str(upload), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48000, layout="mono")
        t = np.arange(48000 * 2) / 48000
        tone = (0.4 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(tone[None, :], format="flt", layout="mono")
        frame.sample_rate, frame.pts = 48000, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    audio = InputFile("audio", "ast_aud", "audio", "audio/ogg", upload)
    out = generate(tmp_path, "image_to_video", None, {}, {"image": image_input(portrait), "audio": audio})
    info = video_streams(out[0].path)
    assert info["video"]["codec"] == "h264" and info["audio"]["codec"] == "aac"
    assert abs(info["duration"] - 2.0) < 0.15


def test_text_to_video(tmp_path: Path) -> None:
    out = generate(tmp_path, "text_to_video", "mountains at sunset with birds", {"duration_seconds": 2, "seed": 1})
    assert (out[0].content_type, out[0].kind) == ("video/mp4", "video")
    info = video_streams(out[0].path)
    assert info["video"]["codec"] == "h264"
    assert (info["video"]["width"], info["video"]["height"]) == (1280, 720)
    assert info["audio"] is None
    assert abs(info["duration"] - 2.0) < 0.1
    frames = info["video"]["frames"]
    assert len(frames) == 48
    assert float(np.abs(frames[0].astype(np.float32) - frames[-1]).mean()) > 1.0


# cancellation and errors -------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "prompt", "params"), [
    ("text_to_image", "mountains", {"n": 4, "size": "512x512", "seed": 1}),
    ("music", "fast drums", {"duration_seconds": 47, "seed": 1}),
    ("text_to_video", "ocean", {"duration_seconds": 10, "seed": 1}),
    ("audio", None, {"voice_text": "One. Two. Three. Four. Five. Six."}),
])
def test_cancellation_stops_rendering(tmp_path: Path, mode: str, prompt: str | None, params: dict) -> None:
    ctx = FakeContext(tmp_path / "work", abort_at=2)
    with pytest.raises(JobAborted):
        generate(tmp_path, mode, prompt, params, ctx=ctx)
    assert len(ctx.reports) == 2  # nothing ran past the aborting report


def test_image_to_video_cancellation(tmp_path: Path, portrait: Path) -> None:
    ctx = FakeContext(tmp_path / "work", abort_at=3)
    with pytest.raises(JobAborted):
        generate(tmp_path, "image_to_video", None, {"voice_text": SPEECH * 3},
                 {"image": image_input(portrait)}, ctx=ctx)
    assert len(ctx.reports) == 3


def test_unknown_mode_fails(tmp_path: Path) -> None:
    with pytest.raises(GenerationFailed):
        generate(tmp_path, "hologram", "anything")


def test_png_bytes_are_valid(tmp_path: Path) -> None:
    out = generate(tmp_path, "text_to_image", "tiny check", {"size": "512x512", "seed": 1})
    Image.open(io.BytesIO(out[0].path.read_bytes())).verify()
