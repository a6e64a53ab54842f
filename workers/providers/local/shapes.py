"""Abstract compositions: Bauhaus-style shapes on a grid, and flowing contour bands."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .palette import RGB, Palette, mix, shift
from .raster import fractal_noise
from .scene import Layer

_SUPERSAMPLE = 3


def _rgba(color: RGB, alpha: float = 1.0) -> tuple[int, int, int, int]:
    return (round(color[0] * 255), round(color[1] * 255), round(color[2] * 255), round(alpha * 255))


def _shape(kind: str, size: int, color: RGB, rng: np.random.Generator) -> Image.Image:
    """One shape filling a ``size``² sprite, drawn large and reduced for clean edges."""
    big = size * _SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    fill = _rgba(color)
    box = (0, 0, big - 1, big - 1)
    if kind == "circle":
        draw.ellipse(box, fill=fill)
    elif kind == "ring":
        draw.ellipse(box, outline=fill, width=big // 7)
    elif kind == "half":
        start = int(rng.integers(0, 4)) * 90
        draw.pieslice(box, start, start + 180, fill=fill)
    elif kind == "quarter":
        corner = int(rng.integers(0, 4))
        doubled = (-big if corner in (1, 2) else 0, -big if corner in (2, 3) else 0)
        draw.ellipse((doubled[0], doubled[1], doubled[0] + 2 * big, doubled[1] + 2 * big), fill=fill)
    elif kind == "triangle":
        draw.polygon([(0, big), (big // 2, 0), (big, big)], fill=fill)
    elif kind == "stripes":
        step = big // 7
        for i in range(0, 7, 2):
            draw.rectangle((i * step, 0, (i + 1) * step, big), fill=fill)
    elif kind == "dots":
        step = big // 5
        for i in range(5):
            for j in range(5):
                draw.ellipse((i * step + step // 4, j * step + step // 4, i * step + 3 * step // 4,
                              j * step + 3 * step // 4), fill=fill)
    else:  # "bar"
        draw.rectangle((0, big // 3, big, 2 * big // 3), fill=fill)
    return image.reduce(_SUPERSAMPLE)


def bauhaus_layers(width: int, height: int, palette: Palette, rng: np.random.Generator,
                   motion: float) -> list[Layer]:
    """Flat shapes snapped to a grid, big ones first; in video each drifts on its own heading."""
    columns = int(rng.integers(3, 5))
    cell = min(width, height) / columns
    grid_w, grid_h = max(1, round(width / cell)), max(1, round(height / cell))
    kinds = ["circle", "half", "quarter", "ring", "triangle", "stripes", "dots", "bar"]
    ink = (0.1, 0.1, 0.12) if not palette.is_dark else (0.93, 0.9, 0.84)
    colors = list(palette.accents) + [ink]
    layers = []
    spans = [2, 2] + [int(rng.integers(1, 3)) for _ in range(int(rng.integers(5, 9)))]
    for i, span in enumerate(spans):
        span = min(span, grid_w, grid_h)
        size = int(cell * span)
        x = int(rng.integers(0, grid_w - span + 1)) * cell
        y = int(rng.integers(0, grid_h - span + 1)) * cell
        kind = kinds[int(rng.integers(0, len(kinds)))] if i else "circle"
        heading = rng.random() * 6.28
        layers.append(Layer(_shape(kind, size, colors[i % len(colors)], rng), x=x, y=y,
                            vx=float(np.cos(heading)) * motion, vy=float(np.sin(heading)) * motion))
    return layers


def paper(width: int, height: int, palette: Palette, rng: np.random.Generator) -> Image.Image:
    base = mix((0.95, 0.92, 0.85), palette.sky_horizon, 0.12) if not palette.is_dark else \
        mix((0.08, 0.08, 0.11), palette.sky_top, 0.5)
    grain = fractal_noise(width, height, rng, cells=64, octaves=2)
    pixels = np.asarray(base, dtype=np.float32) * (0.97 + 0.05 * grain)[..., None]
    return Image.fromarray(np.clip(pixels * 255 + 0.5, 0, 255).astype(np.uint8)).convert("RGBA")


class ContourField:
    """Terraced colour bands of a warped noise field; over time the bands flow outward.

    The field is kept in 8.8 fixed point, and a table maps (band, position within the
    band) straight to a packed RGBA pixel, so a frame is a few integer operations.
    """

    _BANDS = 8

    def __init__(self, width: int, height: int, palette: Palette, rng: np.random.Generator) -> None:
        warp = fractal_noise(width, height, rng, cells=2, octaves=3)
        field = fractal_noise(width, height, rng, cells=2, octaves=5, persistence=0.45)
        levels = float(rng.integers(5, 9))
        self.field = np.round((field + 0.6 * warp) * levels * 256).astype(np.int32)
        self.size = (width, height)
        self.speed = 0.25 + 0.3 * float(rng.random())
        # Neighbouring bands step through the palette with a light and a dark pass, so they
        # contrast without clashing. Each terrace brightens toward its upper edge; a thin
        # dark line marks the edge itself.
        ring = list(palette.accents[:3]) + [mix(palette.sun, palette.sky_horizon, 0.5)]
        colors = [shift(ring[i % len(ring)], val=1.0 if i < len(ring) else 0.55) for i in range(self._BANDS)]
        frac = np.arange(256, dtype=np.float32) / 256
        light = np.where(frac > 0.955, 0.45, 0.82 + 0.25 * frac)
        table = np.clip(np.asarray(colors, dtype=np.float32)[:, None, :] * light[None, :, None] * 255, 0, 255)
        rgba = np.concatenate([table, np.full(table.shape[:2] + (1,), 255.0)], axis=-1)
        self.table = np.ascontiguousarray(rgba.astype(np.uint8)).view(np.uint32).reshape(-1)

    def apply(self, frame: Image.Image, t: float) -> Image.Image:
        value = self.field - int(t * self.speed * 256)
        index = ((value >> 8) & (self._BANDS - 1)) * 256 + (value & 255)
        pixels = self.table[index]
        return Image.frombuffer("RGBA", self.size, pixels, "raw", "RGBA", 0, 1)
