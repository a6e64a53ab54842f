"""image_to_video: a talking-portrait clip, as long as its voice.

The picture slowly zooms and drifts (``motion.Camera``), framed by the request's resolution
and aspect ratio; a small elliptical region at the mouth
stretches and darkens with the loudness of the voice, frame by frame. The mouth is
found as the reddest horizontal band in the lower middle of the picture (lips are
redder than skin); failing that, where a portrait's mouth usually sits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from .encode import AAC_RATE, VideoWriter
from .motion import Camera, Framing, frame_times, framed_picture, move_for

FPS = 25
_ZOOM = 0.08
#: Where a portrait's mouth usually sits, as fractions of the picture, and its half-size.
_MOUTH_AT, _MOUTH_SIZE = (0.5, 0.6), (0.075, 0.03)


def find_mouth(picture: Image.Image) -> tuple[float, float]:
    """The mouth's position as fractions of the picture's width and height."""
    grid = 64
    small = np.asarray(picture.resize((grid, max(8, round(grid * picture.height / picture.width)))),
                       dtype=np.float32)
    h = small.shape[0]
    # Search the middle 40 % of the width, from 45 % to 80 % of the height.
    top, bottom, left, right = int(h * 0.45), int(h * 0.8), int(grid * 0.3), int(grid * 0.7)
    region = small[top:bottom, left:right]
    redness = region[..., 0] - (region[..., 1] + region[..., 2]) / 2
    rows = np.sort(redness, axis=1)[:, -8:].mean(axis=1)  # a mouth is narrower than the band
    best = int(np.argmax(rows))
    if rows[best] - float(np.median(rows)) < 12:  # no band clearly redder than the rest
        return _MOUTH_AT
    weights = np.clip(redness[best] - np.median(redness[best]), 0, None)
    column = float((weights * np.arange(weights.size)).sum() / weights.sum()) if weights.sum() else 0.5 * weights.size
    return (left + column) / grid, (top + best + 0.5) / h


def loudness_per_frame(samples: np.ndarray, rate: int, frames: int, fps: int = FPS) -> np.ndarray:
    """RMS per video frame, normalised to [0, 1] and smoothed with a fast attack, slow release."""
    step = rate / fps
    rms = np.array([np.sqrt(np.mean(samples[int(i * step):int((i + 1) * step)] ** 2) if
                            int(i * step) < samples.size else 0.0) for i in range(frames)])
    rms /= max(float(np.percentile(rms, 95)), 1e-6)
    out = np.zeros(frames, dtype=np.float32)
    level = 0.0
    for i, value in enumerate(np.clip(rms, 0, 1)):
        level = value if value > level else level * 0.6 + value * 0.4
        out[i] = level
    return out


class _Mouth:
    """A bilinear vertical stretch of a small ellipse, opening with the voice."""

    def __init__(self, frame_size: tuple[int, int]) -> None:
        w, h = frame_size
        self.rx, self.ry = max(4, int(w * _MOUTH_SIZE[0])), max(3, int(min(w, h) * _MOUTH_SIZE[1]))
        ys, xs = np.mgrid[-self.ry * 2:self.ry * 2 + 1, -self.rx:self.rx + 1].astype(np.float32)
        inside = np.clip(1 - (xs / self.rx) ** 2 - (ys / (2 * self.ry)) ** 2, 0, 1)
        self.ys, self.xs, self.weight = ys, xs, inside**2
        self.shadow = np.exp(-(ys / (0.35 * self.ry)) ** 2) * np.clip(1 - (xs / (0.8 * self.rx)) ** 2, 0, 1)

    def apply(self, pixels: np.ndarray, cx: int, cy: int, opening: float) -> None:
        h, w = pixels.shape[:2]
        top, left = cy - self.ys.shape[0] // 2, cx - self.rx
        if opening <= 0.02 or top < 0 or left < 0 or top + self.ys.shape[0] > h or left + self.xs.shape[1] > w:
            return
        patch = pixels[top:top + self.ys.shape[0], left:left + self.xs.shape[1]].astype(np.float32)
        # Sample each pixel from nearer the centre line: the lips part.
        source_y = self.ys * (1 - 0.35 * opening * self.weight) + self.ys.shape[0] // 2
        y0 = np.clip(np.floor(source_y).astype(int), 0, patch.shape[0] - 2)
        frac = (source_y - y0)[..., None]
        cols = np.arange(patch.shape[1])[None, :]
        warped = patch[y0, cols] * (1 - frac) + patch[y0 + 1, cols] * frac
        warped *= (1 - 0.55 * opening * self.shadow)[..., None]
        pixels[top:top + self.ys.shape[0], left:left + self.xs.shape[1]] = np.clip(warped, 0, 255).astype(np.uint8)


def render_talking_video(image_path: Path, voice: np.ndarray, path: Path, seed: int,
                         progress: Callable[[float], None], framing: Framing = Framing(fps=FPS),
                         prompt: str | None = None) -> None:
    """``voice`` is mono float32 at ``AAC_RATE``; the clip lasts exactly as long. The camera
    makes the move the prompt asks for (``motion.move_for``), gently."""
    fps, loop = framing.fps, framing.loop
    move = move_for(prompt, seed, zoom=_ZOOM * 0.9)
    picture, (width, height) = framed_picture(image_path, framing.resolution, framing.aspect_ratio, _ZOOM)
    camera = Camera(picture, (width, height), move, loop)
    seconds = voice.size / AAC_RATE
    frames, place = frame_times(seconds, fps, loop)
    loudness = loudness_per_frame(voice, AAC_RATE, frames, fps)
    # A breath every ~4.5 s; looping, a whole number of them in the clip.
    breaths = max(1, round(seconds * 0.22)) / seconds if loop else 0.22
    mouth = _Mouth((width, height))
    mouth_at = find_mouth(picture)
    sw, sh = camera.source.size
    with VideoWriter(path, width, height, fps=fps, audio=voice, audio_rate=AAC_RATE) as writer:
        for i in range(frames):
            box = camera.box(place(i), breathe=0.004 * (1 - math.cos(i / fps * 2 * math.pi * breaths)))
            pixels = np.array(camera.frame(box))
            scale = width / (box[2] - box[0])
            cx = int((sw * mouth_at[0] - box[0]) * scale)
            cy = int((sh * mouth_at[1] - box[1]) * scale)
            mouth.apply(pixels, cx, cy, float(loudness[i]))
            writer.add(Image.fromarray(pixels))
            if i % fps == 0:
                progress(i / frames)
