"""A video's frame size and rate, as requests name them (``resolution``, ``aspect_ratio``, ``fps``).

The resolution names the short side (``720p``: 720 pixels); the aspect ratio sets the long
side. Both sides are even, as H.264 with 4:2:0 chroma needs.
"""

from __future__ import annotations

from typing import Literal, get_args

Resolution = Literal["480p", "720p", "1080p"]
AspectRatio = Literal["16:9", "9:16", "1:1", "4:3", "3:4"]
RESOLUTIONS: tuple[Resolution, ...] = get_args(Resolution)
ASPECT_RATIOS: tuple[AspectRatio, ...] = get_args(AspectRatio)
MIN_FPS, MAX_FPS = 8, 30
DEFAULT_RESOLUTION: Resolution = "720p"


def even(value: float) -> int:
    """The nearest even integer, at least 2."""
    return max(2, round(value / 2) * 2)


def short_side(resolution: str) -> int:
    return int(resolution.removesuffix("p"))


def frame_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """(width, height) of a frame: ``720p`` at ``16:9`` is 1280×720, at ``9:16`` 720×1280."""
    short = short_side(resolution)
    across, down = (int(part) for part in aspect_ratio.split(":"))
    if across >= down:
        return even(short * across / down), short
    return short, even(short * down / across)


def fit_size(resolution: str, width: int, height: int) -> tuple[int, int]:
    """A picture's own proportions fitted (up or down) in the resolution's 16:9 box, turned
    to the picture's orientation: 640×800 at ``720p`` is 720×900 (the box is 720×1280)."""
    long_, short = frame_size(resolution, "16:9")
    box = (long_, short) if width >= height else (short, long_)
    scale = min(box[0] / width, box[1] / height)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)
