"""Deciding what a prompt's picture contains, and assembling it as a ``Scene``.

The theme (landscape, sea, city, space, geometric, flow) comes from the prompt's words,
or from its hash when no word gives it away; the seed varies everything within it.
``duration`` > 0 builds the scene for a clip: layers pan, so they are rendered wider.
"""

from __future__ import annotations

import numpy as np

from . import city, land, shapes, sky
from .palette import Palette, mix, palette_for, shift
from .prompt import best_match, has_any, rng_for, score, unit
from .scene import Scene

THEMES: dict[str, frozenset[str]] = {
    "space": frozenset({"space", "galaxy", "nebula", "cosmos", "cosmic", "planet", "universe", "astronaut",
                        "orbit", "saturn", "jupiter", "mar", "alien"}),
    "city": frozenset({"city", "skyline", "urban", "building", "skyscraper", "street", "downtown",
                       "metropoli", "tower", "town", "cyberpunk"}),
    "sea": frozenset({"sea", "ocean", "beach", "wave", "coast", "shore", "island", "sail", "sailing", "boat",
                      "harbor", "bay", "tropical", "surf"}),
    "landscape": frozenset({"mountain", "hill", "valley", "forest", "tree", "lake", "river", "landscape",
                            "desert", "canyon", "field", "meadow", "alp", "peak", "snow", "nature",
                            "countryside", "wood", "pine", "dune", "glacier", "winter", "autumn"}),
    "geometric": frozenset({"abstract", "geometric", "bauhaus", "shape", "minimal", "minimalist", "circle",
                            "modern", "poster", "composition", "square", "triangle"}),
    "flow": frozenset({"flow", "fluid", "marble", "topographic", "contour", "liquid", "swirl", "psychedelic",
                       "pattern", "texture", "wallpaper", "dream"}),
}
_FALLBACK = ["landscape", "landscape", "sea", "geometric", "flow", "space", "city"]

_WATER = frozenset({"lake", "river", "reflection", "pond", "water", "calm", "still", "mirror"})
_FOREST = frozenset({"forest", "tree", "pine", "wood", "jungle", "taiga"})
_DESERT = frozenset({"desert", "dune", "canyon", "sand", "sahara", "mesa"})
_SNOW = frozenset({"snow", "winter", "alp", "ice", "glacier", "frozen", "snowy"})
_BIRDS = frozenset({"bird", "flock", "seagull", "gull", "crow", "swallow", "flying"})
_SNOWFALL = frozenset({"snow", "snowy", "snowfall", "blizzard", "snowflake"})
_RAIN = frozenset({"rain", "rainy", "storm", "stormy", "downpour", "drizzle"})
_CLOUDY = frozenset({"cloud", "cloudy", "overcast", "storm", "stormy", "rain", "rainy"})


def theme_of(words: tuple[str, ...]) -> str:
    return best_match(words, THEMES) or _FALLBACK[int(unit("theme", words) * len(_FALLBACK))]


def build_scene(words: tuple[str, ...], negative: tuple[str, ...], seed: int, width: int, height: int,
                duration: float = 0.0) -> Scene:
    palette = palette_for(words, seed, negative)
    theme = theme_of(words)
    rng = rng_for("scene", words, seed)
    builder = {"space": _space, "city": _city, "sea": _sea, "landscape": _landscape,
               "geometric": _geometric, "flow": _flow}[theme]
    return builder(width, height, palette, rng, words, negative, duration)


def _scale(width: int, height: int) -> float:
    return min(width, height) / 720


def _sky_things(scene: Scene, palette: Palette, rng: np.random.Generator, words: tuple[str, ...],
                negative: tuple[str, ...], horizon: float, duration: float) -> None:
    """Stars, sun or moon, clouds and birds above a horizon at ``horizon`` pixels."""
    w, h = scene.width, scene.height
    s = _scale(w, h)
    night = palette.is_dark
    if night and "star" not in negative:
        stars, bright = sky.star_layer(w + int(6 * s * duration) + 2, int(horizon), rng, 0.0012, vx=-3 * s)
        scene.add(stars)
        scene.add(sky.Twinkle(bright[:24], stars, 1.2 * s))
    body = "moon" if night else "sun"
    if body not in negative:
        radius = min(w, h) * (0.06 + 0.05 * rng.random())
        cx = w * (0.2 + 0.6 * rng.random())
        cy = horizon * (0.25 + 0.5 * rng.random()) if night or palette.time == "day" else horizon * 0.78
        sun = sky.sun_layer(palette, cx, cy, radius, rng, moon=night)
        # The sun sinks (or the moon climbs) a little over a clip.
        sun.vy = (4 if not night else -2) * s
        scene.add(sun)
    cloudiness = 0.25 + 0.15 * rng.random() + 0.25 * score(words, _CLOUDY)
    if "cloud" not in negative and "clear" not in words:
        for depth in (0, 1):
            speed = (6 + 10 * depth) * s
            band_top = horizon * (0.05 + 0.3 * depth + 0.1 * rng.random())
            scene.add(sky.cloud_layer(w + int(speed * duration) + 2, palette, rng, band_top,
                                      band_top + horizon * 0.45, min(cloudiness, 0.8), -speed))
    for kind, vocabulary in (("snow", _SNOWFALL), ("rain", _RAIN)):
        if has_any(words, vocabulary) and kind not in negative:
            scene.add(sky.Precipitation(w, h, rng, kind))
    if has_any(words, _BIRDS) and "bird" not in negative:
        scene.add(sky.Birds(w, h, rng, shift(palette.sky_top, val=0.3), int(rng.integers(4, 9))))


def _landscape(w: int, h: int, palette: Palette, rng: np.random.Generator, words: tuple[str, ...],
               negative: tuple[str, ...], duration: float) -> Scene:
    s = _scale(w, h)
    flavour = "desert" if has_any(words, _DESERT) else "forest" if has_any(words, _FOREST) else \
        "snow" if has_any(words, _SNOW) else "mountain"
    water = (has_any(words, _WATER) or rng.random() < 0.35) and "water" not in negative
    horizon = h * (0.6 + 0.08 * rng.random()) if water else h * (0.72 + 0.08 * rng.random())
    scene = Scene(w, h, sky.sky_background(w, h, palette, horizon / h))
    _sky_things(scene, palette, rng, words, negative, horizon, duration)
    land_base = land.land_color(palette.accents[0], flavour)
    if palette.is_dark:
        land_base = shift(land_base, val=0.45)
    count = 4 if not water else 3
    for i in range(count):
        near = i / max(count - 1, 1)
        speed = (3 + 22 * near**2) * s
        base = horizon if water else horizon + (h - horizon) * (0.1 + 0.9 * near)
        amplitude = h * (0.32 - 0.18 * near) * (0.7 if flavour == "desert" else 1.0)
        tree_height = 0.0
        if flavour == "forest" and i >= count - 2:
            tree_height = h * (0.025 + 0.03 * near)
        haze = 0.72 * (1 - near) ** 1.2
        color = shift(land_base, val=0.8 + 0.4 * rng.random())
        scene.add(land.ridge_layer(w + int(speed * duration) + 2, h, base, amplitude, rng, color,
                                   palette.sky_horizon, haze, jagged=flavour != "desert",
                                   trees=tree_height, snow=flavour == "snow" and i < count - 1, vx=-speed))
    if water:
        tint = mix(palette.sky_top, shift(palette.accents[0], val=0.5), 0.35)
        scene.add(land.Reflection(w, h, int(horizon), tint, rng, choppiness=0.25))
        scene.add(land.shore_layer(w + int(30 * s * duration) + 2, h, rng, land_base, -30 * s))
    return scene


def _sea(w: int, h: int, palette: Palette, rng: np.random.Generator, words: tuple[str, ...],
         negative: tuple[str, ...], duration: float) -> Scene:
    s = _scale(w, h)
    horizon = h * (0.55 + 0.1 * rng.random())
    scene = Scene(w, h, sky.sky_background(w, h, palette, horizon / h))
    _sky_things(scene, palette, rng, words, negative, horizon, duration)
    if rng.random() < 0.6:
        island = shift(mix(palette.accents[0], palette.sky_top, 0.5), val=0.6)
        scene.add(land.ridge_layer(w + int(4 * s * duration) + 2, h, horizon, h * 0.08, rng, island,
                                   palette.sky_horizon, 0.5, jagged=True, vx=-4 * s))
    tint = mix(shift(palette.sky_top, val=0.7), (0.05, 0.25, 0.4), 0.5)
    scene.add(land.Reflection(w, h, int(horizon), tint, rng, choppiness=0.9))
    return scene


def _city(w: int, h: int, palette: Palette, rng: np.random.Generator, words: tuple[str, ...],
          negative: tuple[str, ...], duration: float) -> Scene:
    s = _scale(w, h)
    water = has_any(words, _WATER) or rng.random() < 0.3
    ground = h * (0.7 if water else 0.92)
    scene = Scene(w, h, sky.sky_background(w, h, palette, ground / h))
    _sky_things(scene, palette, rng, words, negative, ground * 0.8, duration)
    night = palette.is_dark or palette.time in ("sunset", "neon")
    light = mix((1.0, 0.85, 0.5), palette.accents[0], 0.3 if palette.time == "neon" else 0.1)
    for i in range(3):
        near = i / 2
        speed = (4 + 20 * near) * s
        body = mix(shift(palette.sky_top, val=0.5 - 0.25 * near), palette.sky_horizon, 0.45 * (1 - near))
        window = light if night else mix(body, palette.sky_horizon, 0.5)
        layer, windows = city.skyline_layer(w + int(speed * duration) + 2, h, ground + h * 0.03 * i,
                                            h * (0.55 - 0.12 * i), rng, body, window,
                                            0.35 if night else 0.6, vx=-speed)
        scene.add(layer)
        if night and i == 2:
            scene.add(city.WindowFlicker(windows, layer, rng, body, window))
    if water:
        scene.add(land.Reflection(w, h, int(ground), shift(palette.sky_top, val=0.6), rng, choppiness=0.4))
    return scene


def _space(w: int, h: int, palette: Palette, rng: np.random.Generator, words: tuple[str, ...],
           negative: tuple[str, ...], duration: float) -> Scene:
    s = _scale(w, h)
    deep = Palette("night", shift(palette.sky_top, val=0.25), shift(palette.accents[0], val=0.2),
                   palette.sun, palette.accents)
    scene = Scene(w, h, sky.sky_background(w, h, deep, 1.0))
    if "nebula" not in negative:
        scene.add(sky.nebula_layer(w + int(5 * s * duration) + 2, h, palette, rng, -5 * s))
    for depth in (0, 1):
        stars, bright = sky.star_layer(w + int((4 + 8 * depth) * s * duration) + 2, h, rng,
                                       0.0012 - 0.0006 * depth, vx=-(4 + 8 * depth) * s)
        scene.add(stars)
        if depth:
            scene.add(sky.Twinkle(bright[:20], stars, 1.3 * s))
    if "planet" not in negative:
        radius = min(w, h) * (0.12 + 0.14 * rng.random())
        cx, cy = w * (0.25 + 0.5 * rng.random()), h * (0.3 + 0.4 * rng.random())
        ringed = rng.random() < 0.6 or "saturn" in words or "ring" in words
        scene.add(sky.planet_layer(palette, cx, cy, radius, rng, ringed, vx=-10 * s))
    return scene


def _geometric(w: int, h: int, palette: Palette, rng: np.random.Generator, words: tuple[str, ...],
               negative: tuple[str, ...], duration: float) -> Scene:
    scene = Scene(w, h, shapes.paper(w, h, palette, rng))
    for layer in shapes.bauhaus_layers(w, h, palette, rng, motion=12 * _scale(w, h)):
        scene.add(layer)
    return scene


def _flow(w: int, h: int, palette: Palette, rng: np.random.Generator, words: tuple[str, ...],
          negative: tuple[str, ...], duration: float) -> Scene:
    scene = Scene(w, h, shapes.paper(w, h, palette, rng))
    scene.add(shapes.ContourField(w, h, palette, rng))
    return scene
