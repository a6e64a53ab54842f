"""image_to_video: a talking-portrait clip, as long as its voice.

The picture slowly zooms and drifts; a small elliptical region at the mouth
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
from .inputs import load_image

FPS = 25
#: Output box: the long side fits 1280 and the short side 720 (720p).
_LONG, _SHORT = 1280, 720
_ZOOM = 0.08
#: Where a portrait's mouth usually sits, as fractions of the picture, and its half-size.
_MOUTH_AT, _MOUTH_SIZE = (0.5, 0.6), (0.075, 0.03)


def output_size(width: int, height: int) -> tuple[int, int]:
    """Fit (up or down) inside 1280×720 in the picture's orientation; both sides even."""
    box = (_LONG, _SHORT) if width >= height else (_SHORT, _LONG)
    scale = min(box[0] / width, box[1] / height)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


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


def loudness_per_frame(samples: np.ndarray, rate: int, frames: int) -> np.ndarray:
    """RMS per video frame, normalised to [0, 1] and smoothed with a fast attack, slow release."""
    step = rate / FPS
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
                         progress: Callable[[float], None]) -> None:
    """``voice`` is mono float32 at ``AAC_RATE``; the clip lasts exactly as long."""
    picture = load_image(image_path, longest=1600)
    width, height = output_size(*picture.size)
    # Work from a copy 1 + zoom times the frame size, so zooming never upsamples twice.
    source = picture.resize((round(width * (1 + _ZOOM)), round(height * (1 + _ZOOM))), Image.Resampling.LANCZOS)
    frames = max(1, math.ceil(voice.size / AAC_RATE * FPS))
    loudness = loudness_per_frame(voice, AAC_RATE, frames)
    rng = np.random.default_rng(seed)
    drift = rng.uniform(-1, 1, 2) * 0.5
    mouth = _Mouth((width, height))
    mouth_at = find_mouth(picture)
    sw, sh = source.size
    full_w = min(sw, sh * width / height)  # the widest crop with the frame's aspect ratio
    with VideoWriter(path, width, height, fps=FPS, audio=voice, audio_rate=AAC_RATE) as writer:
        for i in range(frames):
            t = i / max(frames - 1, 1)
            ease = t * t * (3 - 2 * t)
            breathe = 0.004 * (1 - math.cos(i / FPS * 2 * math.pi * 0.22))
            crop_w = full_w / (1 + _ZOOM * ease * 0.9 + breathe)
            crop_h = crop_w * height / width
            # Drift stays within the slack the zoom leaves, keeping the mouth region in frame.
            x0 = min(max((sw - crop_w) * (0.5 + drift[0] * ease), 0.0), sw - crop_w)
            y0 = min(max((sh - crop_h) * (0.5 + drift[1] * ease), 0.0), sh - crop_h)
            # A box filter over a fractional box: subpixel-smooth motion, and at scales this
            # close to 1 as sharp as bilinear for two thirds of its cost.
            frame = source.resize((width, height), Image.Resampling.BOX, box=(x0, y0, x0 + crop_w, y0 + crop_h))
            pixels = np.array(frame)
            scale = width / crop_w
            cx = int((sw * mouth_at[0] - x0) * scale)
            cy = int((sh * mouth_at[1] - y0) * scale)
            mouth.apply(pixels, cx, cy, float(loudness[i]))
            writer.add(Image.fromarray(pixels))
            if i % FPS == 0:
                progress(i / frames)
