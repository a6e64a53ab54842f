"""Ground elements: mountain and hill ridges, tree lines, and water reflections."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from .palette import RGB, mix, shift
from .raster import coverage, fractal_noise, profile, to_rgba_image
from .scene import Layer


def _tree_line(top: np.ndarray, rng: np.random.Generator, tree_height: float) -> np.ndarray:
    """Raise conifer silhouettes (triangles) along a ridge line."""
    width = top.size
    out = top.copy()
    x = 0.0
    while x < width:
        h = tree_height * (0.55 + 0.9 * rng.random())
        half = h * 0.28
        lo, hi = int(max(0, x - half)), int(min(width, x + half + 1))
        xs = np.arange(lo, hi)
        peak = top[min(int(x), width - 1)] - h
        out[lo:hi] = np.minimum(out[lo:hi], peak + np.abs(xs - x) * (h / half))
        x += half * (0.5 + 0.9 * rng.random())
    return out


def ridge_layer(width: int, height: int, base: float, amplitude: float, rng: np.random.Generator,
                color: RGB, haze: RGB, haze_amount: float, *, jagged: bool, trees: float = 0.0,
                snow: bool = False, vx: float = 0.0) -> Layer:
    """One silhouette layer whose crest wanders ``amplitude`` pixels above ``base`` (pixels)."""
    line = profile(width, rng, cells=2, octaves=7 if jagged else 4, persistence=0.5 if jagged else 0.35)
    if jagged:
        line = line**1.7  # sharper peaks, wider valleys
    top = base - line * amplitude
    if trees:
        top = _tree_line(top, rng, trees)
    first = max(0, int(top.min()) - 1)
    rows = np.arange(first, height, dtype=np.float32)[:, None]
    depth = rows - top[None, :]
    alpha = coverage(-depth)
    texture = fractal_noise(width, height - first, rng, cells=6, octaves=3, stretch=0.5)
    shade = np.clip(depth / (amplitude * 1.5 + 1), 0.0, 1.0)
    lit = np.asarray(shift(color, val=1.15, sat=0.9), dtype=np.float32)
    dark = np.asarray(shift(color, val=0.75), dtype=np.float32)
    rgb = lit + (dark - lit) * shade[..., None]
    rgb *= (0.95 + 0.1 * texture)[..., None]
    if snow:
        snow_line = base - amplitude * 0.55
        cap = np.clip((snow_line - top[None, :]) / (amplitude * 0.25), 0, 1) * \
            np.clip(1.0 - depth / (amplitude * (0.12 + 0.25 * texture)), 0, 1)
        rgb += (np.asarray((0.94, 0.96, 1.0), dtype=np.float32) - rgb) * cap[..., None]
    rgb += (np.asarray(haze, dtype=np.float32) - rgb) * haze_amount
    # Mist pooling at the foot of distant ridges.
    mist = np.clip((rows - base) / (height - base + 1) * 2.0, 0, 1) * haze_amount
    rgb += (np.asarray(haze, dtype=np.float32) - rgb) * mist[..., None]
    return Layer(to_rgba_image(np.clip(rgb, 0, 1), alpha), y=first, vx=vx)


class Reflection:
    """Mirror everything above ``horizon`` into the water below it, with moving ripples.

    Per frame this is one gather of packed RGBA pixels and one fixed-point blend, so it
    stays cheap at video frame rates.
    """

    def __init__(self, width: int, height: int, horizon: int, tint: RGB, rng: np.random.Generator,
                 choppiness: float) -> None:
        self.horizon, self.width = horizon, width
        rows = height - horizon
        depth = np.arange(rows, dtype=np.float32) / max(rows, 1)
        # Slightly compressed mirror rows: water seen at a glancing angle.
        source = np.clip(horizon - 1 - (np.arange(rows) * 0.85).astype(np.int64), 0, horizon - 1)
        self.row_start = (source * width)[:, None]
        scale = min(width, height) / 720
        self.amplitude = ((1.0 + 9.0 * depth**1.5) * scale * (0.5 + choppiness)).astype(np.float32)
        self.phase = (rng.random(rows) * 6.28 + np.arange(rows) * 0.045 / (0.15 + depth)).astype(np.float32)
        self.columns = np.arange(width, dtype=np.int64)[None, :]
        # Fixed-point blend toward the water tint, darker toward the viewer, with crest highlights.
        weight = (0.25 + 0.5 * depth) * (0.6 + 0.4 * choppiness)
        self.keep = np.round((1 - weight) * 256).astype(np.uint16)[:, None, None]
        streaks = fractal_noise(width, rows, rng, cells=4, octaves=3, stretch=12.0)
        sparkle = np.clip((streaks - 0.62) * 2.5, 0, 1) * 60 * choppiness
        tint_term = np.asarray(tint, dtype=np.float32) * 255 * weight[:, None, None] + sparkle[..., None]
        self.add = np.zeros((rows, width, 4), dtype=np.uint16)
        self.add[..., :3] = np.round(np.clip(tint_term, 0, 255) * 256).astype(np.uint16)
        self.add[..., 3] = 255 * 256

    def apply(self, frame: Image.Image, t: float) -> Image.Image:
        pixels = np.array(frame)
        packed = pixels.view(np.uint32).reshape(-1)
        shifts = (self.amplitude * np.sin(self.phase + t * 1.6)).astype(np.int64)[:, None]
        index = self.row_start + (self.columns + shifts) % self.width
        mirrored = packed[index].view(np.uint8).reshape(self.add.shape)
        water = mirrored * self.keep
        water += self.add
        np.minimum(water, 65535 - 255, out=water)
        pixels[self.horizon:] = (water >> 8).astype(np.uint8)
        return Image.fromarray(pixels)


def shore_layer(width: int, height: int, rng: np.random.Generator, color: RGB, vx: float) -> Layer:
    """A dark foreground bank along the bottom edge, framing a lake."""
    line = profile(width, rng, cells=2, octaves=5)
    top = height - height * (0.04 + 0.1 * line * (0.5 + 0.5 * np.cos(np.linspace(0, 2 * math.pi, width))))
    first = int(top.min()) - 1
    rows = np.arange(first, height, dtype=np.float32)[:, None]
    alpha = coverage(top[None, :] - rows)
    rgb = np.broadcast_to(np.asarray(shift(color, val=0.45), dtype=np.float32), alpha.shape + (3,))
    return Layer(to_rgba_image(rgb, alpha), y=first, vx=vx)


def land_color(words_hue: RGB, theme: str) -> RGB:
    """Base colour of the nearest ridge for a landscape flavour."""
    return {
        "desert": (0.78, 0.5, 0.3),
        "forest": (0.12, 0.3, 0.2),
        "snow": (0.3, 0.34, 0.45),
    }.get(theme, mix(shift(words_hue, val=0.55, sat=0.7), (0.2, 0.22, 0.3), 0.4))
