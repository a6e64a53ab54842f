"""The local provider's video parameters: resolution × aspect ratio, frame rate, loops, negative
prompts, and image_to_video's silent camera move. Clips are small and short to keep this fast."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shared.media.video_format import fit_size, frame_size
from tests.providers.local_support import generate, image_input, video_streams


def mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def face_x(frame: np.ndarray) -> float:
    """The centre of the portrait's skin-coloured oval, across the frame."""
    skin = (frame[..., 0].astype(int) - frame[..., 2]) > 40
    return float(np.nonzero(skin)[1].mean())


def test_frame_sizes_follow_resolution_and_aspect_ratio() -> None:
    assert frame_size("720p", "16:9") == (1280, 720)
    assert frame_size("1080p", "16:9") == (1920, 1080)
    assert frame_size("480p", "16:9") == (854, 480)
    assert frame_size("720p", "9:16") == (720, 1280)
    assert frame_size("1080p", "1:1") == (1080, 1080)
    assert frame_size("480p", "4:3") == (640, 480)
    assert frame_size("480p", "3:4") == (480, 640)
    assert fit_size("720p", 640, 800) == (720, 900)
    assert fit_size("480p", 300, 200) == (720, 480)


@pytest.mark.parametrize(("resolution", "aspect", "size"), [
    ("480p", "9:16", (480, 854)), ("480p", "1:1", (480, 480)), ("480p", "4:3", (640, 480)),
])
def test_text_to_video_size_and_frame_rate(tmp_path: Path, resolution: str, aspect: str, size: tuple) -> None:
    out = generate(tmp_path, "text_to_video", "a forest by a lake",
                   {"duration_seconds": 1, "fps": 10, "resolution": resolution, "aspect_ratio": aspect, "seed": 3})
    info = video_streams(out[0].path)
    assert (info["video"]["width"], info["video"]["height"]) == size
    assert info["video"]["fps"] == 10 and len(info["video"]["frames"]) == 10
    assert abs(info["duration"] - 1.0) < 0.05


def test_text_to_video_at_1080p(tmp_path: Path) -> None:
    out = generate(tmp_path, "text_to_video", "desert dunes", {"duration_seconds": 1, "fps": 8,
                                                               "resolution": "1080p", "seed": 1})
    info = video_streams(out[0].path)
    assert (info["video"]["width"], info["video"]["height"]) == (1920, 1080)
    assert len(info["video"]["frames"]) == 8


def test_text_to_video_loop_ends_where_it_starts(tmp_path: Path) -> None:
    params = {"duration_seconds": 3, "fps": 12, "resolution": "480p", "seed": 4}
    prompt = "a city skyline at night with clouds"
    plain = video_streams(generate(tmp_path / "a", "text_to_video", prompt, params)[0].path)["video"]["frames"]
    looped = video_streams(generate(tmp_path / "b", "text_to_video", prompt, {**params, "loop": True})[0].path)
    frames = looped["video"]["frames"]
    assert len(frames) == 36
    # The loop's last frame is one frame step before its first; the plain clip has moved on.
    step = float(np.median([mean_diff(frames[i], frames[i + 1]) for i in range(0, 35, 3)]))
    assert mean_diff(frames[-1], frames[0]) < 1.5 * step
    assert mean_diff(plain[0], plain[-1]) > 3 * mean_diff(frames[0], frames[-1])
    assert mean_diff(frames[0], frames[len(frames) // 2]) > 2 * mean_diff(frames[0], frames[-1])


def test_text_to_video_negative_prompt_leaves_elements_out(tmp_path: Path) -> None:
    params = {"duration_seconds": 1, "fps": 8, "resolution": "480p", "seed": 2}
    prompt = "a starry night sky with the moon over mountains"
    plain = video_streams(generate(tmp_path / "a", "text_to_video", prompt, params)[0].path)["video"]["frames"]
    without = video_streams(generate(tmp_path / "b", "text_to_video", prompt,
                                     {**params, "negative_prompt": "moon, stars"})[0].path)["video"]["frames"]
    # Moon and stars are the sky's brightest pixels: without them, far fewer bright ones.
    sky = slice(0, 200)
    bright = [int((f[sky].max(axis=-1) > 200).sum()) for f in (plain[0], without[0])]
    assert bright[1] < bright[0] / 2, bright


def test_image_to_video_without_voice_moves_the_picture(tmp_path: Path, portrait: Path) -> None:
    out = generate(tmp_path, "image_to_video", None,
                   {"duration_seconds": 2, "fps": 12, "resolution": "480p", "seed": 5},
                   {"image": image_input(portrait)})
    info = video_streams(out[0].path)
    assert info["audio"] is None
    assert (info["video"]["width"], info["video"]["height"]) == fit_size("480p", 640, 800) == (480, 600)
    frames = info["video"]["frames"]
    assert len(frames) == 24 and abs(info["duration"] - 2.0) < 0.1
    steps = [mean_diff(frames[i], frames[i + 1]) for i in range(0, 23, 4)]
    assert min(steps) > 0.05 and mean_diff(frames[0], frames[-1]) > 3  # it moves all along


@pytest.mark.parametrize(("prompt", "direction"), [("slow pan left", -1), ("pan right", 1)])
def test_image_to_video_pan_follows_the_prompt(tmp_path: Path, portrait: Path, prompt: str, direction: int) -> None:
    out = generate(tmp_path, "image_to_video", prompt, {"duration_seconds": 1, "fps": 8, "resolution": "480p",
                                                        "aspect_ratio": "1:1", "seed": 1},
                   {"image": image_input(portrait)})
    frames = video_streams(out[0].path)["video"]["frames"]
    assert frames[0].shape[:2] == (480, 480)
    # The camera moves one way, so the face moves the other across the frame.
    assert (face_x(frames[-1]) - face_x(frames[0])) * -direction > 10


@pytest.mark.parametrize(("prompt", "direction"), [("pan left", -1), ("pan right", 1)])
def test_talking_clip_camera_follows_the_prompt(tmp_path: Path, portrait: Path, prompt: str, direction: int) -> None:
    out = generate(tmp_path, "image_to_video", prompt,
                   {"voice_text": "Hello there, friend.", "fps": 8, "resolution": "480p", "aspect_ratio": "1:1"},
                   {"image": image_input(portrait)})
    frames = video_streams(out[0].path)["video"]["frames"]
    # A talking clip's move is gentle (its zoom is 7 %), but it goes the way asked.
    assert (face_x(frames[-1]) - face_x(frames[0])) * -direction > 10


def test_image_to_video_loop_and_aspect_ratio(tmp_path: Path, portrait: Path) -> None:
    out = generate(tmp_path, "image_to_video", None,
                   {"duration_seconds": 2, "fps": 10, "resolution": "480p", "aspect_ratio": "16:9", "loop": True,
                    "seed": 5}, {"image": image_input(portrait)})
    frames = video_streams(out[0].path)["video"]["frames"]
    assert frames[0].shape[:2] == (480, 854)
    assert mean_diff(frames[0], frames[-1]) < 1.0
    assert mean_diff(frames[0], frames[10]) > 3


def test_talking_clip_takes_frame_rate_and_aspect_ratio(tmp_path: Path, portrait: Path) -> None:
    out = generate(tmp_path, "image_to_video", None,
                   {"voice_text": "Hello there.", "voice_id": "narrator", "fps": 12, "resolution": "480p",
                    "aspect_ratio": "1:1"}, {"image": image_input(portrait)})
    info = video_streams(out[0].path)
    assert info["audio"]["codec"] == "aac"
    assert (info["video"]["width"], info["video"]["height"]) == (480, 480) and info["video"]["fps"] == 12
    assert abs(len(info["video"]["frames"]) / 12 - info["duration"]) < 0.2
