"""Colours from prompt words: a time of day sets the sky, colour words tint it.

Colours are RGB tuples of floats in [0, 1]. Prompts without colour or time words
still get their own colours: the preset and a hue rotation come from the words' hash.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

from .prompt import best_match, has_any, unit

RGB = tuple[float, float, float]

#: Hues (0–1) of colour words; greys are handled as a loss of saturation.
COLOR_HUES: dict[str, float] = {
    "red": 0.0, "crimson": 0.97, "scarlet": 0.01, "orange": 0.07, "amber": 0.1, "gold": 0.12,
    "golden": 0.12, "yellow": 0.15, "lime": 0.25, "green": 0.33, "emerald": 0.38, "mint": 0.42,
    "teal": 0.48, "turquoise": 0.47, "cyan": 0.5, "aqua": 0.5, "blue": 0.6, "azure": 0.58,
    "navy": 0.63, "indigo": 0.7, "violet": 0.75, "purple": 0.78, "lavender": 0.75, "magenta": 0.85,
    "pink": 0.92, "rose": 0.95, "brown": 0.07, "copper": 0.06,
}
_GREYS = frozenset({"grey", "gray", "silver", "monochrome", "black", "white", "colorless"})

_TIMES: dict[str, frozenset[str]] = {
    "night": frozenset({"night", "midnight", "moon", "moonlight", "moonlit", "star", "starry", "nocturnal"}),
    "sunset": frozenset({"sunset", "dusk", "evening", "twilight", "sundown", "golden"}),
    "dawn": frozenset({"dawn", "sunrise", "morning", "daybreak"}),
    "neon": frozenset({"neon", "cyberpunk", "synthwave", "retrowave", "vaporwave", "disco"}),
    "storm": frozenset({"storm", "stormy", "rain", "rainy", "fog", "foggy", "mist", "misty", "gloomy"}),
    "day": frozenset({"day", "noon", "sunny", "summer", "bright", "clear", "afternoon"}),
}

# (sky top, sky at the horizon, sun or moon) per time of day.
_PRESETS: dict[str, tuple[RGB, RGB, RGB]] = {
    "day": ((0.22, 0.47, 0.84), (0.74, 0.87, 0.97), (1.0, 0.98, 0.88)),
    "sunset": ((0.21, 0.13, 0.40), (0.98, 0.56, 0.32), (1.0, 0.86, 0.55)),
    "dawn": ((0.42, 0.52, 0.80), (0.99, 0.80, 0.70), (1.0, 0.95, 0.80)),
    "night": ((0.02, 0.03, 0.10), (0.10, 0.16, 0.32), (0.95, 0.94, 0.86)),
    "neon": ((0.07, 0.02, 0.17), (0.92, 0.22, 0.58), (1.0, 0.55, 0.85)),
    "storm": ((0.23, 0.25, 0.30), (0.56, 0.59, 0.63), (0.92, 0.92, 0.90)),
}

_DARK = frozenset({"dark", "gloomy", "ominous", "sinister", "horror", "gothic", "shadow", "noir"})
_PASTEL = frozenset({"pastel", "soft", "dreamy", "gentle", "light", "pale", "calm", "peaceful"})
_VIVID = frozenset({"vivid", "vibrant", "colorful", "colourful", "psychedelic", "bold", "saturated"})


@dataclass(frozen=True)
class Palette:
    time: str
    sky_top: RGB
    sky_horizon: RGB
    sun: RGB
    #: Colours for foreground shapes (ridges, buildings, abstract forms), most prominent first.
    accents: tuple[RGB, ...]

    @property
    def is_dark(self) -> bool:
        return luminance(self.sky_top) < 0.15


def luminance(color: RGB) -> float:
    r, g, b = color
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def shift(color: RGB, hue: float = 0.0, sat: float = 1.0, val: float = 1.0) -> RGB:
    """Rotate hue by ``hue`` turns and scale saturation and value."""
    h, s, v = colorsys.rgb_to_hsv(*color)
    return colorsys.hsv_to_rgb((h + hue) % 1.0, min(1.0, s * sat), min(1.0, v * val))


def hsv(h: float, s: float, v: float) -> RGB:
    return colorsys.hsv_to_rgb(h % 1.0, s, v)


def palette_for(words: tuple[str, ...], seed: int, negative: tuple[str, ...] = ()) -> Palette:
    time = best_match(words, _TIMES)
    if time is None:
        time = ["day", "sunset", "dawn", "night", "neon"][int(unit("time", words, seed) * 5)]
    top, horizon, sun = _PRESETS[time]

    hues = [COLOR_HUES[w] for w in words if w in COLOR_HUES and w not in negative]
    banned = [COLOR_HUES[w] for w in negative if w in COLOR_HUES]
    if hues:
        # The sky leans toward the first colour named; explicit colours win over presets.
        named = hsv(hues[0], 0.75, 0.9)
        horizon = mix(horizon, named, 0.45)
        top = mix(top, shift(named, val=0.45), 0.3)
        base_hue = hues[0]
    else:
        drift = (unit("hue", words, seed) - 0.5) * 0.12
        top, horizon = shift(top, drift), shift(horizon, drift)
        base_hue = unit("base", words, seed)
    for bad in banned:
        # Push the base hue at least a quarter turn away from a colour the caller does not want.
        if min(abs(base_hue - bad), 1 - abs(base_hue - bad)) < 0.12:
            base_hue = (bad + 0.25) % 1.0

    harmony = [0.0, 0.5, 0.08, 0.58, 0.33][: 3 + int(unit("harm", words, seed) * 3)]
    accent_hues = [base_hue, *hues[1:], *((base_hue + step) % 1.0 for step in harmony[1:])]
    sat, val = 0.62, 0.78
    if has_any(words, _VIVID):
        sat, val = 0.82, 0.9
    if has_any(words, _PASTEL):
        sat, val = 0.35, 0.93
    if has_any(words, _DARK):
        val *= 0.6
        top, horizon = shift(top, val=0.55), shift(horizon, sat=0.7, val=0.6)
    if has_any(words, _GREYS):
        sat *= 0.15
        top, horizon = shift(top, sat=0.15), shift(horizon, sat=0.15)
    accents = tuple(hsv(h, sat, val) for h in accent_hues)
    return Palette(time=time, sky_top=top, sky_horizon=horizon, sun=sun, accents=accents)
