"""The local provider's reworks of a source: video_to_video (every frame restyled) and
audio_to_audio. Sources are small and short to keep this fast."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from shared.media.probe import probe
from tests.media_samples import mp4_bytes
from tests.providers.local_support import generate, video_streams
from workers.providers.base import InputFile


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
