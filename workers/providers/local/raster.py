"""Numpy drawing primitives shared by the image and video renderers.

Arrays are float32 in [0, 1]; ``(h, w, 3)`` for colour, ``(h, w)`` for alpha and
fields. Conversions to Pillow images add a tiny dither so smooth gradients do not band.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image

from .palette import RGB


def vertical_gradient(width: int, height: int, stops: Sequence[tuple[float, RGB]]) -> np.ndarray:
    """An ``(h, w, 3)`` gradient through ``(position 0–1, colour)`` stops, top to bottom."""
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)
    positions = [p for p, _ in stops]
    column = np.stack([np.interp(y, positions, [c[i] for _, c in stops]) for i in range(3)], axis=-1)
    return np.broadcast_to(column[:, None, :].astype(np.float32), (height, width, 3))


def upsample(grid: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bicubic resize of a small float field (Pillow's C resampler is far faster than numpy)."""
    image = Image.fromarray(np.ascontiguousarray(grid, dtype=np.float32))
    return np.asarray(image.resize((width, height), Image.Resampling.BICUBIC), dtype=np.float32)


def fractal_noise(
    width: int, height: int, rng: np.random.Generator, cells: int = 4, octaves: int = 4,
    persistence: float = 0.5, stretch: float = 1.0,
) -> np.ndarray:
    """Smooth fractal noise normalised to [0, 1]; ``stretch`` > 1 elongates it horizontally."""
    total = np.zeros((height, width), dtype=np.float32)
    amplitude, weight = 1.0, 0.0
    for octave in range(octaves):
        nx = max(2, int(cells * 2**octave / stretch) + 2)
        ny = max(2, int(cells * 2**octave * height / max(width, 1)) + 2)
        total += amplitude * upsample(rng.random((ny, nx), dtype=np.float32), width, height)
        weight += amplitude
        amplitude *= persistence
    total /= weight
    low, high = float(total.min()), float(total.max())
    return (total - low) / max(high - low, 1e-6)


def profile(length: int, rng: np.random.Generator, cells: int = 3, octaves: int = 6,
            persistence: float = 0.5) -> np.ndarray:
    """A 1-D fractal curve in [0, 1] (ridge lines, skyline heights, wave rows)."""
    x = np.linspace(0.0, 1.0, length)
    total = np.zeros(length)
    amplitude, weight = 1.0, 0.0
    for octave in range(octaves):
        knots = cells * 2**octave + 2
        values = rng.random(knots)
        position = x * (knots - 1)
        index = np.minimum(position.astype(int), knots - 2)
        frac = position - index
        smooth = frac * frac * (3 - 2 * frac)
        total += amplitude * (values[index] * (1 - smooth) + values[index + 1] * smooth)
        weight += amplitude
        amplitude *= persistence
    total /= weight
    return ((total - total.min()) / max(float(np.ptp(total)), 1e-9)).astype(np.float32)


def radial(width: int, height: int, cx: float, cy: float, radius: float) -> np.ndarray:
    """Distance from ``(cx, cy)`` divided by ``radius``."""
    y = (np.arange(height, dtype=np.float32) - cy)[:, None]
    x = (np.arange(width, dtype=np.float32) - cx)[None, :]
    return np.sqrt(x * x + y * y) / max(radius, 1e-6)


def coverage(signed_distance: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage of a shape from its signed distance in pixels (negative inside)."""
    return np.clip(0.5 - signed_distance, 0.0, 1.0)


@lru_cache(maxsize=4)
def _dither(height: int, width: int) -> np.ndarray:
    """A fixed noise pattern (so output stays deterministic) tiled to the image size."""
    tile = np.random.default_rng(0x5EED).random((128, 128), dtype=np.float32)
    pattern = np.tile(tile, (height // 128 + 1, width // 128 + 1))[:height, :width]
    pattern.flags.writeable = False  # shared through the cache
    return pattern


def quantize(values: np.ndarray) -> np.ndarray:
    """Float [0, 1] → uint8 with dithering; ``values`` is consumed (scaled in place)."""
    dither = _dither(*values.shape[:2])
    values *= 255.0
    values += dither[..., None] if values.ndim == 3 else dither
    np.clip(values, 0, 255, out=values)
    return values.astype(np.uint8)


def to_rgb_image(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray(quantize(np.array(rgb, dtype=np.float32)))


def to_rgba_image(rgb: np.ndarray, alpha: np.ndarray) -> Image.Image:
    image = to_rgb_image(np.broadcast_to(rgb, alpha.shape + (3,)))
    image.putalpha(Image.fromarray(quantize(np.array(alpha, dtype=np.float32))))
    return image


def solid_rgba(color: RGB, alpha: np.ndarray) -> Image.Image:
    """A flat colour with an alpha mask: only the mask needs dithering."""
    h, w = alpha.shape
    image = Image.new("RGBA", (w, h), tuple(int(round(c * 255)) for c in color) + (0,))
    image.putalpha(Image.fromarray(quantize(np.array(alpha, dtype=np.float32))))
    return image
