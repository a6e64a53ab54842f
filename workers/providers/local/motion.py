"""image_to_video's camera: frames cropped from a still picture along a slow zoom or pan.

A ``Move`` says where the crop starts and ends (its zoom, and its centre within the slack
the zoom leaves); ``Camera`` eases along it, or there and back again for a clip that loops.
Without a voice the picture is simply filmed this way (``animate_picture``); the talking clip
(``avatar``) films it the same way and moves the mouth on top.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from shared.media.video_format import fit_size, frame_size

from .encode import VideoWriter
from .inputs import load_image
from .prompt import has_any, words_of

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Framing:
    """A clip's frame rate, resolution, aspect ratio (None: the picture's own) and looping."""

    fps: int = 25
    resolution: str = "720p"
    aspect_ratio: str | None = None
    loop: bool = False

    @classmethod
    def of(cls, params: Mapping[str, Any], fps: int, aspect_ratio: str | None = None) -> Framing:
        """The request's framing, with the mode's default frame rate and aspect ratio."""
        return cls(int(params.get("fps", fps)), str(params.get("resolution", "720p")),
                   params.get("aspect_ratio", aspect_ratio), bool(params.get("loop", False)))


@dataclass(frozen=True)
class Move:
    """Zoom (0.2: the crop is 1/1.2 of the widest) and centre (-0.5–0.5 of the slack) at both ends."""

    zoom: tuple[float, float]
    x: tuple[float, float] = (0.0, 0.0)
    y: tuple[float, float] = (0.0, 0.0)


#: How far the picture's own animation zooms or pans.
PICTURE_ZOOM = 0.25
#: Pans, by direction (their zoom is set by ``move_for``).
_MOVES: dict[str, Move] = {
    "pan_left": Move((0.0, 0.0), x=(0.5, -0.5)),
    "pan_right": Move((0.0, 0.0), x=(-0.5, 0.5)),
    "pan_up": Move((0.0, 0.0), y=(0.5, -0.5)),
    "pan_down": Move((0.0, 0.0), y=(-0.5, 0.5)),
}


def move_for(prompt: str | None, seed: int, zoom: float = PICTURE_ZOOM) -> Move:
    """The move the prompt asks for ("zoom out", "pan left", "tilt up"…); otherwise a zoom in
    drifting in a direction picked by the seed. ``zoom`` sets how far it goes."""
    words = words_of(prompt)
    for name in ("left", "right", "up", "down"):
        if name in words and has_any(words, frozenset({"pan", "tilt", "move", "slide", "track"})):
            move = _MOVES[f"pan_{name}"]
            return Move((zoom, zoom), move.x, move.y)
    if "out" in words and has_any(words, frozenset({"zoom", "pull", "dolly"})):
        return Move((zoom, 0.0))
    drift = np.random.default_rng(seed).uniform(-0.4, 0.4, 2)
    return Move((0.0, zoom), x=(0.0, float(drift[0])), y=(0.0, float(drift[1])))


def crop_to(picture: Image.Image, aspect_ratio: str | None) -> Image.Image:
    """The picture's centre at ``aspect_ratio`` ("16:9"…), or the whole picture for None."""
    if aspect_ratio is None:
        return picture
    across, down = (int(part) for part in aspect_ratio.split(":"))
    w, h = picture.size
    crop_w, crop_h = min(w, h * across / down), min(h, w * down / across)
    left, top = (w - crop_w) / 2, (h - crop_h) / 2
    return picture.crop((round(left), round(top), round(left + crop_w), round(top + crop_h)))


def output_size(picture: Image.Image, resolution: str, aspect_ratio: str | None) -> tuple[int, int]:
    if aspect_ratio is None:
        return fit_size(resolution, *picture.size)
    return frame_size(resolution, aspect_ratio)


def framed_picture(path: Path, resolution: str, aspect_ratio: str | None,
                   zoom: float) -> tuple[Image.Image, tuple[int, int]]:
    """The input picture cropped to the aspect ratio, and the clip's frame size."""
    longest = max(1600, math.ceil(max(frame_size(resolution, "16:9")) * (1 + zoom)))
    picture = crop_to(load_image(path, longest=longest), aspect_ratio)
    return picture, output_size(picture, resolution, aspect_ratio)


class Camera:
    def __init__(self, picture: Image.Image, size: tuple[int, int], move: Move, loop: bool) -> None:
        self.width, self.height = size
        self.move, self.loop = move, loop
        margin = 1 + max(move.zoom)
        # Work from a copy ``margin`` times the frame size, so zooming never upsamples twice.
        self.source = picture.resize((round(self.width * margin), round(self.height * margin)),
                                     Image.Resampling.LANCZOS)
        sw, sh = self.source.size
        self.full_w = min(sw, sh * self.width / self.height)  # the widest crop of the frame's shape

    def ease(self, t: float) -> float:
        """0 → 1 over the clip (``t`` in [0, 1)); looping, 0 → 1 → 0, so the end meets the start."""
        if self.loop:
            return (1 - math.cos(2 * math.pi * t)) / 2
        return t * t * (3 - 2 * t)

    def box(self, t: float, breathe: float = 0.0) -> Box:
        e = self.ease(t)
        move, (sw, sh) = self.move, self.source.size
        zoom = move.zoom[0] + (move.zoom[1] - move.zoom[0]) * e
        crop_w = self.full_w / (1 + zoom + breathe)
        crop_h = crop_w * self.height / self.width
        cx = move.x[0] + (move.x[1] - move.x[0]) * e
        cy = move.y[0] + (move.y[1] - move.y[0]) * e
        x0 = min(max((sw - crop_w) * (0.5 + cx), 0.0), sw - crop_w)
        y0 = min(max((sh - crop_h) * (0.5 + cy), 0.0), sh - crop_h)
        return x0, y0, x0 + crop_w, y0 + crop_h

    def frame(self, box: Box) -> Image.Image:
        # A box filter over a fractional box: subpixel-smooth motion, and at scales this
        # close to 1 as sharp as bilinear for two thirds of its cost.
        return self.source.resize((self.width, self.height), Image.Resampling.BOX, box=box)


def frame_times(seconds: float, fps: int, loop: bool) -> tuple[int, Callable[[int], float]]:
    """The number of frames and each frame's place on the path (0–1). A looping clip stops one
    frame short of its start, so played on repeat it never shows the same frame twice in a row."""
    frames = max(1, math.ceil(seconds * fps))
    last = frames if loop else max(frames - 1, 1)
    return frames, lambda i: i / last


def animate_picture(image_path: Path, path: Path, framing: Framing, seconds: float, prompt: str | None,
                    seed: int, progress: Callable[[float], None]) -> None:
    """A silent clip of the picture filmed along ``move_for(prompt, seed)``."""
    move = move_for(prompt, seed)
    picture, size = framed_picture(image_path, framing.resolution, framing.aspect_ratio, max(move.zoom))
    camera = Camera(picture, size, move, framing.loop)
    frames, place = frame_times(seconds, framing.fps, framing.loop)
    with VideoWriter(path, *size, fps=framing.fps) as writer:
        for i in range(frames):
            writer.add(camera.frame(camera.box(place(i))))
            if i % framing.fps == 0:
                progress(i / frames)
