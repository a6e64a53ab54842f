"""text_to_video: the prompt's scene, animated (parallax pan, drifting clouds, twinkling stars…).

Frames are rendered at 960×540 and upscaled to 720p by the encoder's scaler: the
scenes are soft-edged, and it keeps a 5 s clip within a few CPU seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from .compose import build_scene
from .encode import VideoWriter
from .prompt import words_of

FPS = 24
SIZE = (1280, 720)
RENDER_SIZE = (960, 540)


def render_animation(prompt: str, seconds: float, seed: int, path: Path,
                     progress: Callable[[float], None]) -> None:
    scene = build_scene(words_of(prompt), (), seed, *RENDER_SIZE, duration=seconds)
    frames = max(1, math.ceil(seconds * FPS))
    with VideoWriter(path, *SIZE, fps=FPS) as writer:
        for i in range(frames):
            writer.add(scene.render(i / FPS))
            if i % FPS == 0:
                progress(i / frames)
