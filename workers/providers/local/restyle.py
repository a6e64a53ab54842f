"""image_to_image: restyle the caller's picture as the prompt asks.

A style filter chosen from the prompt's words (sketch, paint, pop, vintage, neon,
pixel, noir, dream; otherwise a colour grade toward the prompt's palette) is blended
with the original by ``strength``; then elements the prompt names (sun, moon, stars,
snow, rain, birds) are laid over it, also scaled by ``strength``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from . import sky
from .palette import RGB, Palette, mix, palette_for, shift
from .prompt import best_match, has_any, rng_for, words_of
from .raster import fractal_noise, quantize, radial
from .scene import Scene

STYLES: dict[str, frozenset[str]] = {
    "sketch": frozenset({"sketch", "pencil", "drawing", "charcoal", "ink", "lineart", "drawn"}),
    "paint": frozenset({"watercolor", "watercolour", "painting", "oil", "painted", "impressionist", "gouache",
                        "acrylic", "gogh", "monet", "brush", "canva"}),
    "pop": frozenset({"pop", "comic", "cartoon", "poster", "warhol", "graphic", "anime", "manga",
                      "illustration", "flat"}),
    "vintage": frozenset({"vintage", "retro", "sepia", "old", "film", "analog", "polaroid", "nostalgic",
                          "faded", "antique"}),
    "neon": frozenset({"neon", "cyberpunk", "glow", "glowing", "synthwave", "futuristic", "tron", "electric"}),
    "pixel": frozenset({"pixel", "pixelated", "8bit", "bit", "arcade", "minecraft", "mosaic", "lego"}),
    "noir": frozenset({"noir", "monochrome", "grayscale", "greyscale", "bw", "detective"}),
    "dream": frozenset({"dream", "dreamy", "ethereal", "fairy", "fantasy", "magical", "heavenly", "bloom"}),
}


def _array(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32) / 255.0


def _image(values: np.ndarray) -> Image.Image:
    return Image.fromarray(quantize(np.array(np.clip(values, 0, 1), dtype=np.float32)))


def _gradient_map(gray: np.ndarray, stops: list[RGB]) -> np.ndarray:
    positions = np.linspace(0, 1, len(stops))
    return np.stack([np.interp(gray, positions, [c[i] for c in stops]) for i in range(3)], axis=-1)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _vignette(rgb: np.ndarray, amount: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    falloff = radial(w, h, w / 2, h / 2, float(np.hypot(w, h)) / 2)
    return rgb * (1 - amount * falloff**2)[..., None]


def _grain(shape: tuple[int, int], rng: np.random.Generator, amount: float) -> np.ndarray:
    return (rng.standard_normal(shape).astype(np.float32) * amount)[..., None]


def _sketch(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    gray = ImageOps.grayscale(image)
    blurred = ImageOps.invert(gray).filter(ImageFilter.GaussianBlur(max(2, image.width // 150)))
    g, b = _array(gray), _array(blurred)
    dodge = np.clip(g / np.maximum(1.0 - b, 1e-3), 0, 1) ** 2.2  # colour dodge: pencil lines
    paper = mix((0.96, 0.94, 0.89), palette.sky_horizon, 0.08)
    texture = fractal_noise(image.width, image.height, rng, cells=48, octaves=2)
    lead = np.asarray((0.18, 0.18, 0.22), dtype=np.float32)
    tone = dodge * (0.93 + 0.07 * texture)
    return _image(lead + (np.asarray(paper, dtype=np.float32) - lead) * tone[..., None])


def _paint(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    small = image.reduce(2) if image.width > 600 else image
    smooth = small.filter(ImageFilter.MedianFilter(5)).filter(ImageFilter.SMOOTH_MORE)
    smooth = smooth.quantize(32, method=Image.Quantize.FASTOCTREE).convert("RGB").resize(image.size)
    edges = _array(ImageOps.grayscale(smooth).filter(ImageFilter.FIND_EDGES))
    rgb = _array(smooth) * (1 - 0.6 * np.clip(edges * 3, 0, 1))[..., None]
    paper = fractal_noise(image.width, image.height, rng, cells=60, octaves=2)
    wash = fractal_noise(image.width, image.height, rng, cells=3, octaves=3)
    rgb = rgb * (0.92 + 0.08 * paper)[..., None] + (0.06 * (wash - 0.5))[..., None]
    return _image(rgb)


def _pop(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    colors = [(0.05, 0.05, 0.07), (0.98, 0.97, 0.93)] + [c for a in palette.accents[:4]
                                                         for c in (a, shift(a, val=0.55))]
    flat = [round(v * 255) for c in colors for v in c]
    table = Image.new("P", (1, 1))
    table.putpalette(flat + flat[:3] * (256 - len(colors)))
    poster = image.filter(ImageFilter.SMOOTH_MORE).quantize(palette=table, dither=Image.Dither.NONE)
    edges = ImageOps.grayscale(image).filter(ImageFilter.GaussianBlur(1)).filter(ImageFilter.FIND_EDGES)
    ink = (_array(edges) > 0.12)[..., None]
    return _image(np.where(ink, 0.05, _array(poster.convert("RGB"))))


def _vintage(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    rgb = _array(image)
    sepia = _gradient_map(_luma(rgb), [(0.16, 0.1, 0.06), (0.62, 0.46, 0.3), (0.98, 0.92, 0.78)])
    faded = 0.08 + 0.84 * (rgb * 0.35 + sepia * 0.65)
    h, w = rgb.shape[:2]
    leak = np.exp(-radial(w, h, w * float(rng.random()), 0, w * 0.6) ** 2)[..., None]
    faded += leak * np.asarray((0.35, 0.12, 0.02), dtype=np.float32)
    return _image(_vignette(faded, 0.45) + _grain((h, w), rng, 0.035))


def _neon(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    edges = ImageOps.grayscale(image).filter(ImageFilter.GaussianBlur(1.2)).filter(ImageFilter.FIND_EDGES)
    lines = np.clip(_array(edges) * 4, 0, 1)
    h, w = lines.shape
    hue = np.linspace(0, 1, w, dtype=np.float32)[None, :] * np.ones((h, 1), dtype=np.float32)
    accents = [shift(c, sat=1.6, val=1.3) for c in palette.accents[:3]]
    color = _gradient_map(hue, accents + [accents[0]])
    glow = _array(Image.fromarray(quantize(lines.copy())).filter(ImageFilter.GaussianBlur(max(3, w // 120))))
    base = _array(image) * 0.22 * np.asarray(mix((1, 1, 1), palette.accents[0], 0.5), dtype=np.float32)
    return _image(base + color * (lines + 1.6 * glow)[..., None])


def _pixel(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    blocks = max(32, min(96, image.width // 10))
    small = image.resize((blocks, max(1, round(blocks * image.height / image.width))), Image.Resampling.BOX)
    small = small.quantize(16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).convert("RGB")
    return small.resize(image.size, Image.Resampling.NEAREST)


def _noir(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    gray = _luma(_array(image))
    contrast = 1 / (1 + np.exp(-(gray - 0.5) * 7))  # an S-curve
    rgb = np.repeat(contrast[..., None], 3, axis=-1)
    return _image(_vignette(rgb, 0.6) + _grain(gray.shape, rng, 0.045))


def _dream(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    rgb = _array(image)
    bloom = _array(image.filter(ImageFilter.GaussianBlur(max(4, image.width // 60))))
    screen = 1 - (1 - rgb) * (1 - bloom * 0.8)
    tint = _gradient_map(_luma(rgb), [shift(palette.accents[0], val=0.6), mix(palette.sky_horizon, (1, 1, 1), 0.5),
                                      (1.0, 0.98, 0.95)])
    return _image(screen * 0.7 + tint * 0.3 + 0.04)


def _grade(image: Image.Image, palette: Palette, rng: np.random.Generator) -> Image.Image:
    """Map tones onto the prompt's palette: shadows to its sky, highlights to its light."""
    rgb = _array(image)
    shadow = shift(palette.sky_top, val=0.45)
    stops = [shadow, mix(palette.accents[0], palette.sky_horizon, 0.5), mix(palette.sun, (1, 1, 1), 0.3)]
    toned = _gradient_map(_luma(rgb), stops)
    return _image(_vignette(rgb * 0.45 + toned * 0.55 * 1.05, 0.3))


_FILTERS: dict[str, Callable[[Image.Image, Palette, np.random.Generator], Image.Image]] = {
    "sketch": _sketch, "paint": _paint, "pop": _pop, "vintage": _vintage, "neon": _neon, "pixel": _pixel,
    "noir": _noir, "dream": _dream, "grade": _grade,
}


def _overlays(base: Image.Image, words: tuple[str, ...], palette: Palette, rng: np.random.Generator,
              strength: float, t: float) -> Image.Image:
    w, h = base.size
    scene = Scene(w, h, base.convert("RGBA"))
    s = min(w, h)
    if has_any(words, frozenset({"night", "star", "starry", "galaxy", "space"})):
        stars, _ = sky.star_layer(w, int(h * 0.6), rng, 0.0008)
        scene.add(stars)
    if has_any(words, frozenset({"moon", "moonlight", "moonlit"})):
        scene.add(sky.sun_layer(palette, w * (0.65 + 0.2 * rng.random()), h * 0.18, s * 0.07, rng, moon=True))
    elif has_any(words, frozenset({"sun", "sunset", "sunrise", "sunny", "golden", "sunlight"})):
        scene.add(sky.sun_layer(palette, w * (0.15 + 0.7 * rng.random()), h * 0.15, s * 0.06, rng))
    if has_any(words, frozenset({"snow", "snowy", "winter", "snowfall", "blizzard"})):
        scene.add(sky.Precipitation(w, h, rng, "snow", amount=strength))
    if has_any(words, frozenset({"rain", "rainy", "storm", "stormy", "downpour"})):
        scene.add(sky.Precipitation(w, h, rng, "rain", amount=strength))
    if has_any(words, frozenset({"bird", "flock", "seagull", "gull"})):
        scene.add(sky.Birds(w, h, rng, (0.1, 0.1, 0.12), int(3 + 5 * strength)))
    if not scene.items:
        return base
    return Image.blend(base, scene.render(t), min(1.0, 0.35 + 0.65 * strength))


def restyle(image: Image.Image, prompt: str, strength: float, seed: int, t: float = 0.0) -> Image.Image:
    """``t``: seconds into a clip, for overlays that move (snow and rain fall, birds fly)."""
    words = words_of(prompt)
    rng = rng_for("restyle", words, seed)
    palette = palette_for(words, seed)
    style = best_match(words, STYLES) or "grade"
    styled = _FILTERS[style](image, palette, rng)
    blended = Image.blend(image, styled, float(np.clip(strength, 0.0, 1.0)))
    if style in ("sketch", "pixel", "noir") and strength > 0.5:
        # These read as a medium, not a tint: past half strength, show them whole.
        blended = Image.blend(blended, styled, (strength - 0.5) * 2)
    return _overlays(blended, words, palette, rng, strength, t)
