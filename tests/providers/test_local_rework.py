"""The local provider's reworks of a source: video_to_video (every frame restyled) and
audio_to_audio. Sources are small and short to keep this fast."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from shared.media.probe import probe
from tests.media_samples import mp4_bytes
from tests.providers.local_support import (
    FakeContext,
    decode_audio,
    generate,
    high_band_share,
    median_pitch,
    onsets_per_second,
    video_streams,
)
from workers.providers.base import InputFile, JobAborted
from workers.providers.local.rework import analyse


def video_input(tmp_path: Path, name: str = "source.mp4", **kwargs) -> InputFile:
    path = tmp_path / name
    path.write_bytes(mp4_bytes(**kwargs))
    return InputFile("video", "ast_vid", "video", "video/mp4", path,
                     duration_seconds=probe(path, "video").duration_seconds)


def luma(frame: np.ndarray) -> np.ndarray:
    return frame.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def edges(frame: np.ndarray) -> np.ndarray:
    """Where the picture's outlines are (softened a little): its structure, whatever its colours."""
    outlines = Image.fromarray(frame).convert("L").filter(ImageFilter.FIND_EDGES).filter(ImageFilter.BoxBlur(4))
    return np.asarray(outlines, dtype=np.float32)


def test_video_to_video_restyles_every_frame_and_keeps_structure_and_audio(tmp_path: Path) -> None:
    source = video_input(tmp_path)
    out = generate(tmp_path, "video_to_video", "neon glow", {"strength": 0.9, "seed": 1}, {"video": source})
    assert (out[0].content_type, out[0].kind) == ("video/mp4", "video")
    info, original = video_streams(out[0].path), video_streams(source.path)
    assert info["audio"]["codec"] == "aac"
    assert (info["video"]["width"], info["video"]["height"]) == (320, 240)
    assert info["video"]["fps"] == 15 and len(info["video"]["frames"]) == 30
    for i in (0, 29):
        styled, plain = info["video"]["frames"][i], original["video"]["frames"][i]
        assert float(np.abs(luma(styled) - luma(plain)).mean()) > 20  # the pixels changed…
        # …but the outlines are the source's at that time, not at another.
        same = correlation(edges(styled), edges(plain))
        assert same > 0.75 and same > correlation(edges(styled), edges(original["video"]["frames"][29 - i])) + 0.15


def test_video_to_video_cuts_resamples_and_resizes(tmp_path: Path) -> None:
    source = video_input(tmp_path, audio=False)
    out = generate(tmp_path, "video_to_video", "neon glow",
                   {"strength": 0.5, "seed": 2, "duration_seconds": 1, "fps": 10, "resolution": "480p"},
                   {"video": source})
    info = video_streams(out[0].path)
    assert info["audio"] is None
    assert (info["video"]["width"], info["video"]["height"]) == (640, 480)  # 4:3 kept at 480p
    assert info["video"]["fps"] == 10 and len(info["video"]["frames"]) == 10


def test_video_to_video_never_outlasts_the_source(tmp_path: Path) -> None:
    source = video_input(tmp_path, seconds=1.0)
    out = generate(tmp_path, "video_to_video", "vintage film", {"seed": 3, "duration_seconds": 5}, {"video": source})
    info = video_streams(out[0].path)
    assert len(info["video"]["frames"]) == 15 and abs(info["duration"] - 1.0) < 0.1


@pytest.mark.parametrize("strength", [0.2, 0.9])
def test_video_to_video_strength(tmp_path: Path, strength: float) -> None:
    source = video_input(tmp_path, seconds=0.5)
    out = generate(tmp_path, "video_to_video", "noir", {"strength": strength, "seed": 4}, {"video": source})
    styled = video_streams(out[0].path)["video"]["frames"][3].astype(np.float32)
    plain = video_streams(source.path)["video"]["frames"][3].astype(np.float32)
    # Noir drains the blue field's colour: more so the stronger the restyle.
    saturation = float((styled.max(axis=-1) - styled.min(axis=-1)).mean())
    original = float((plain.max(axis=-1) - plain.min(axis=-1)).mean())
    assert saturation < original * (1 - 0.6 * strength)


# audio_to_audio -----------------------------------------------------------------------------------

def tone_input(tmp_path: Path, name: str, freq: float, pattern: list[int], step: float = 0.5) -> InputFile:
    """A ``freq`` tone switched on and off per ``step`` seconds by ``pattern`` (1 on, 0 off)."""
    rate = 44100
    t = np.arange(int(rate * step * len(pattern))) / rate
    gate = np.repeat(np.array(pattern, dtype=np.float32), int(rate * step))[: t.size]
    samples = (0.5 * np.sin(2 * np.pi * freq * t) * gate).astype(np.float32)
    path = tmp_path / name
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return InputFile("audio", "ast_src", "audio", "audio/wav", path, duration_seconds=t.size / rate)


def envelope(samples: np.ndarray, rate: int, step: float = 0.5) -> np.ndarray:
    size = int(rate * step)
    frames = samples[: samples.size // size * size].reshape(-1, size)
    return np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))


def test_analysis_finds_the_source_pitch_and_key(tmp_path: Path) -> None:
    source = tone_input(tmp_path, "a.wav", 440.0, [1, 1, 0, 1])
    samples, rate = decode_audio(source.path)
    analysis = analyse(samples, rate)
    pitched = analysis.pitch[~np.isnan(analysis.pitch)]
    assert pitched.size >= 10 and abs(float(np.median(pitched)) - 69) < 0.3  # A4
    assert analysis.key_root() == 9  # A
    assert np.isnan(analysis.pitch[10:15]).all()  # the silent half-second from 1.0 s


def test_audio_to_audio_depends_on_the_source_and_the_prompt(tmp_path: Path) -> None:
    first = tone_input(tmp_path, "first.wav", 220.0, [1, 1, 0, 0, 1, 1, 0, 0])
    second = tone_input(tmp_path, "second.wav", 330.0, [0, 0, 1, 1, 0, 0, 1, 1])
    params = {"strength": 0.8, "seed": 3, "output_format": "wav"}
    outputs = {}
    for name, source, prompt in (("first", first, "calm piano"), ("second", second, "calm piano"),
                                 ("drums", first, "fast drums")):
        out = generate(tmp_path / name, "audio_to_audio", prompt, params, {"audio": source})
        assert (out[0].content_type, out[0].kind) == ("audio/wav", "audio")
        outputs[name] = decode_audio(out[0].path)
    assert all(abs(s.size / r - 4.0) < 0.05 for s, r in outputs.values())  # the source's length
    # The rework is loud where its own source is: its loudness follows that source, not the other.
    source_env = envelope(decode_audio(first.path)[0], 44100)
    for name, own, other in (("first", first, second), ("second", second, first)):
        reworked = envelope(*outputs[name])
        own_env, other_env = envelope(decode_audio(own.path)[0], 44100), envelope(decode_audio(other.path)[0], 44100)
        assert correlation(reworked, own_env) > 0.5 > correlation(reworked, other_env)
    assert correlation(envelope(*outputs["drums"]), source_env) > 0.3
    # Same source, another prompt: another piece over it (busier, brighter).
    calm, busy = outputs["first"], outputs["drums"]
    assert onsets_per_second(*busy) > onsets_per_second(*calm) + 1
    assert high_band_share(*busy) > 2 * high_band_share(*calm)


def test_audio_to_audio_strength_zero_is_the_source_and_duration_cuts(tmp_path: Path) -> None:
    source = tone_input(tmp_path, "src.wav", 330.0, [1, 1, 1, 1, 1, 1])
    out = generate(tmp_path / "a", "audio_to_audio", "fast drums",
                   {"strength": 0.0, "seed": 1, "duration_seconds": 2, "output_format": "wav"}, {"audio": source})
    samples, rate = decode_audio(out[0].path)
    assert abs(samples.size / rate - 2.0) < 0.02
    assert abs(median_pitch(samples, rate) - 330) < 10 and high_band_share(samples, rate) < 0.01
    longer = generate(tmp_path / "b", "audio_to_audio", "piano", {"seed": 1, "duration_seconds": 30,
                                                                 "output_format": "wav"}, {"audio": source})
    samples, rate = decode_audio(longer[0].path)
    assert abs(samples.size / rate - 3.0) < 0.02  # never longer than the source


@pytest.mark.parametrize("mode", ["video_to_video", "audio_to_audio"])
def test_cancellation_stops_a_rework(tmp_path: Path, mode: str) -> None:
    inputs = {"video": video_input(tmp_path, seconds=3.0)} if mode == "video_to_video" else \
        {"audio": tone_input(tmp_path, "src.wav", 220.0, [1] * 12)}
    ctx = FakeContext(tmp_path / "work", abort_at=2)
    with pytest.raises(JobAborted):
        generate(tmp_path, mode, "fast drums as a pencil sketch", {"seed": 1}, inputs, ctx=ctx)
    assert len(ctx.reports) == 2  # nothing ran past the aborting report
