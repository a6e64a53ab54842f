"""Sky elements: gradient, sun or moon, clouds, stars, nebulae, planets, birds."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from .palette import RGB, Palette, mix, shift
from .raster import coverage, fractal_noise, radial, solid_rgba, to_rgb_image, to_rgba_image, vertical_gradient
from .scene import Layer


def sky_background(width: int, height: int, palette: Palette, horizon: float) -> Image.Image:
    """The sky down to ``horizon`` (fraction of the height); below it the horizon colour continues."""
    middle = mix(palette.sky_top, palette.sky_horizon, 0.45)
    stops = [(0.0, palette.sky_top), (horizon * 0.55, middle), (horizon, palette.sky_horizon),
             (1.0, shift(palette.sky_horizon, val=0.8))]
    return to_rgb_image(vertical_gradient(width, height, stops)).convert("RGBA")


def sun_layer(palette: Palette, cx: float, cy: float, radius: float, rng: np.random.Generator,
              moon: bool = False) -> Layer:
    reach = radius * (3.0 if moon else 3.6)
    size = int(2 * reach) | 1
    distance = radial(size, size, size / 2, size / 2, 1.0)
    disc = coverage(distance - radius)
    halo = np.exp(-np.maximum(distance / radius - 1.0, 0.0) * (3.0 if moon else 1.4))
    halo *= 0.28 if moon else 0.6
    rgb = np.empty((size, size, 3), dtype=np.float32)
    rgb[:] = mix(palette.sun, palette.sky_horizon, 0.35)
    core: np.ndarray = np.asarray(palette.sun, dtype=np.float32)
    if moon:
        # Maria: a low-frequency blotch pattern darkening parts of the disc.
        maria = fractal_noise(size, size, rng, cells=3, octaves=3)
        core = core * (0.78 + 0.22 * maria[..., None])
    rgb = rgb * (1 - disc[..., None]) + core * disc[..., None]
    alpha = np.maximum(disc, halo * (1 - disc))
    return Layer(to_rgba_image(rgb, alpha), x=cx - size / 2, y=cy - size / 2)


def cloud_layer(width: int, palette: Palette, rng: np.random.Generator, top: float, bottom: float,
                amount: float, vx: float) -> Layer:
    """A band of soft clouds between ``top`` and ``bottom`` (pixels), drifting at ``vx``."""
    band = max(4, int(bottom - top))
    noise = fractal_noise(width, band, rng, cells=3, octaves=5, stretch=3.0)
    threshold = 1.0 - amount
    density = np.clip((noise - threshold) / 0.3, 0.0, 1.0)
    rows = np.linspace(0.0, math.pi, band, dtype=np.float32)
    density *= np.clip(np.sin(rows), 0.0, 1.0)[:, None] ** 0.7
    night = palette.is_dark
    lit = mix((1.0, 1.0, 1.0), palette.sun, 0.35) if not night else shift(palette.sky_horizon, val=1.3)
    shade = mix(palette.sky_top, palette.sky_horizon, 0.6)
    light = np.clip((noise - threshold) / max(amount, 0.05), 0.0, 1.0)[..., None]
    shade_arr = np.asarray(shade, dtype=np.float32)
    rgb = shade_arr + (np.asarray(lit, dtype=np.float32) - shade_arr) * light
    return Layer(to_rgba_image(rgb, density * (0.55 if night else 0.9)), y=top, vx=vx)


def star_layer(width: int, height: int, rng: np.random.Generator, density: float,
               vx: float = 0.0) -> tuple[Layer, list[tuple[int, int, float]]]:
    """Stars fading out toward the bottom; also returns the brightest, for twinkling."""
    count = int(width * height * density)
    xs = rng.integers(0, width, count)
    ys = (rng.random(count) ** 1.6 * height).astype(int)
    brightness = (rng.random(count) ** 3 * 0.85 + 0.15).astype(np.float32)
    brightness *= 1.0 - ys / height * 0.8
    alpha = np.zeros((height, width), dtype=np.float32)
    np.maximum.at(alpha, (ys, xs), brightness)
    bright = np.argsort(brightness)[-max(3, count // 60):]
    for i in bright:
        y, x = ys[i], xs[i]
        # A soft plus around the brightest stars.
        alpha[max(y - 1, 0):y + 2, x] = np.maximum(alpha[max(y - 1, 0):y + 2, x], brightness[i] * 0.5)
        alpha[y, max(x - 1, 0):x + 2] = np.maximum(alpha[y, max(x - 1, 0):x + 2], brightness[i] * 0.5)
    twinkles = [(int(xs[i]), int(ys[i]), float(brightness[i])) for i in bright]
    return Layer(solid_rgba((1.0, 0.97, 0.92), alpha), vx=vx), twinkles


class Twinkle:
    """Bright stars pulsing with their own phase; ``layer`` keeps them in step with its drift."""

    def __init__(self, stars: list[tuple[int, int, float]], layer: Layer, size: float) -> None:
        self.stars, self.layer, self.size = stars, layer, max(1.0, size)

    def apply(self, frame: Image.Image, t: float) -> Image.Image:
        draw = ImageDraw.Draw(frame, "RGBA")
        dx = round(self.layer.vx * t)
        for i, (x, y, b) in enumerate(self.stars):
            pulse = 0.5 + 0.5 * math.sin(t * (2.0 + i % 5) + i * 1.7)
            r = self.size * (0.6 + pulse)
            alpha = int(255 * b * (0.35 + 0.65 * pulse))
            draw.ellipse((x + dx - r, y - r, x + dx + r, y + r), fill=(255, 250, 235, alpha))
        return frame


def nebula_layer(width: int, height: int, palette: Palette, rng: np.random.Generator, vx: float) -> Layer:
    gas = fractal_noise(width, height, rng, cells=2, octaves=6, persistence=0.55)
    hue = fractal_noise(width, height, rng, cells=2, octaves=3)
    dust = fractal_noise(width, height, rng, cells=4, octaves=4)
    a, b = (np.asarray(c, dtype=np.float32) for c in (palette.accents[0], palette.accents[1 % len(palette.accents)]))
    rgb = a + (b - a) * hue[..., None]
    rgb = np.minimum(rgb * (0.6 + 0.8 * gas[..., None]), 1.0)
    alpha = np.clip((gas - 0.3) * 1.6, 0.0, 1.0) ** 1.4 * (1.0 - 0.6 * np.clip((dust - 0.55) * 3, 0, 1))
    return Layer(to_rgba_image(rgb, alpha * 0.85), vx=vx)


def planet_layer(palette: Palette, cx: float, cy: float, radius: float, rng: np.random.Generator,
                 ringed: bool, vx: float = 0.0) -> Layer:
    reach = radius * (2.2 if ringed else 1.25)
    size = int(2 * reach) | 1
    c = size / 2
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    nx, ny = (x - c) / radius, (y - c) / radius
    r2 = nx * nx + ny * ny
    disc = coverage((np.sqrt(r2) - 1.0) * radius)
    nz = np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))
    light = np.clip(-0.55 * nx - 0.45 * ny + 0.7 * nz, 0.0, 1.0) * 0.9 + 0.08
    bands = fractal_noise(size, size, rng, cells=2, octaves=3, stretch=6.0)
    base = np.asarray(palette.accents[-1], dtype=np.float32)
    stripe = np.asarray(shift(palette.accents[-1], hue=0.06, val=0.7), dtype=np.float32)
    surface = base + (stripe - base) * (0.5 + 0.5 * np.sin(ny * 9 + bands * 5))[..., None]
    rgb = surface * light[..., None]
    alpha = disc.copy()
    # Atmosphere: a thin bright rim on the lit side.
    rim = np.exp(-np.abs(np.sqrt(r2) - 1.0) * radius / 3.0) * np.clip(-nx - ny, 0, 1) * 0.6
    rgb += np.asarray(palette.sky_horizon, dtype=np.float32) * rim[..., None]
    alpha = np.maximum(alpha, rim)
    if ringed:
        ring_r = np.sqrt(nx * nx + (ny / 0.28) ** 2)
        ring = np.clip(1 - np.abs(ring_r - 1.65) / 0.35, 0, 1) ** 0.6 * 0.75
        ring *= 0.7 + 0.3 * np.sin(ring_r * 40)
        behind = (ny < 0) & (r2 < 1.0)
        ring[behind] = 0.0
        ring_color = np.asarray(mix(palette.sun, palette.accents[0], 0.4), dtype=np.float32)
        shade = 0.35 + 0.65 * np.clip(0.6 - 0.5 * nx, 0, 1)
        rgb = rgb * (1 - ring[..., None]) + ring_color * shade[..., None] * ring[..., None]
        alpha = np.maximum(alpha, ring)
    return Layer(to_rgba_image(np.clip(rgb, 0, 1), alpha), x=cx - c, y=cy - c, vx=vx)


class Birds:
    """A small flock crossing the sky, wings flapping."""

    def __init__(self, width: int, height: int, rng: np.random.Generator, color: RGB, count: int) -> None:
        self.width = width
        self.size = min(width, height) / 70
        self.color = tuple(int(c * 255) for c in color) + (230,)
        self.birds = [
            (rng.random() * width, height * (0.12 + 0.25 * rng.random()), 0.6 + 0.8 * rng.random(),
             rng.random() * 6.28)
            for _ in range(count)
        ]

    def apply(self, frame: Image.Image, t: float) -> Image.Image:
        draw = ImageDraw.Draw(frame, "RGBA")
        span = self.width * 1.2
        for x0, y0, scale, phase in self.birds:
            x = (x0 + t * self.width * 0.04 * scale) % span - self.width * 0.1
            y = y0 + math.sin(t * 0.8 + phase) * self.size
            s = self.size * scale
            lift = math.sin(t * 7 * scale + phase) * s * 0.6
            draw.line([(x - s, y - lift), (x, y), (x + s, y - lift)], fill=self.color,
                      width=max(1, round(s / 5)), joint="curve")
        return frame


class Precipitation:
    """Falling snow (drifting flakes) or rain (slanted streaks), looping down the frame."""

    def __init__(self, width: int, height: int, rng: np.random.Generator, kind: str, amount: float = 1.0) -> None:
        self.kind, self.width, self.height = kind, width, height
        scale = min(width, height) / 720
        count = int((260 if kind == "snow" else 320) * amount * width * height / (1280 * 720))
        self.x = rng.random(count) * width
        self.y = rng.random(count) * height
        self.depth = 0.4 + 0.6 * rng.random(count)
        self.phase = rng.random(count) * 6.28
        self.size = (1.2 + 2.3 * self.depth) * scale
        self.speed = (40 if kind == "snow" else 900) * self.depth * scale

    def apply(self, frame: Image.Image, t: float) -> Image.Image:
        draw = ImageDraw.Draw(frame, "RGBA")
        y = (self.y + self.speed * t) % self.height
        if self.kind == "snow":
            x = (self.x + 12 * self.size * np.sin(self.phase + t * 0.9)) % self.width
            for xi, yi, r, d in zip(x, y, self.size, self.depth, strict=True):
                draw.ellipse((xi - r, yi - r, xi + r, yi + r), fill=(255, 255, 255, int(140 + 110 * d)))
        else:
            for xi, yi, r, d in zip(self.x, y, self.size, self.depth, strict=True):
                length = 9 * r
                draw.line((xi, yi, xi - length * 0.18, yi + length), fill=(210, 220, 235, int(60 + 80 * d)),
                          width=max(1, round(r / 2)))
        return frame
