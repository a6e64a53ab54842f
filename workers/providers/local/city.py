"""City skylines: rows of buildings with lit windows, some of which switch on and off."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from .palette import RGB
from .scene import Layer

Window = tuple[int, int, int, int]


def _rgba(color: RGB, alpha: float = 1.0) -> tuple[int, int, int, int]:
    return (round(color[0] * 255), round(color[1] * 255), round(color[2] * 255), round(alpha * 255))


def skyline_layer(width: int, height: int, ground: float, tallest: float, rng: np.random.Generator,
                  color: RGB, window: RGB, lit: float, vx: float = 0.0) -> tuple[Layer, list[Window]]:
    """Buildings standing on ``ground`` (pixels from the top); returns the layer and its windows."""
    top = max(0, int(ground - tallest) - 4)
    image = Image.new("RGBA", (width, height - top), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    unit = max(2, round(min(width, height) / 180))
    body, glass = _rgba(color), _rgba(window, 0.95)
    windows: list[Window] = []
    x = int(-rng.random() * 20 * unit)
    while x < width:
        w = int(unit * (8 + rng.random() * 18))
        h = tallest * (0.25 + 0.75 * rng.random() ** 1.4)
        y0 = int(ground - h) - top
        draw.rectangle((x, y0, x + w, height), fill=body)
        if rng.random() < 0.35:
            # A setback crown or a mast on some towers.
            inset = w // 4
            draw.rectangle((x + inset, y0 - 3 * unit, x + w - inset, y0), fill=body)
            if rng.random() < 0.5:
                draw.line((x + w // 2, y0 - 3 * unit, x + w // 2, y0 - 9 * unit), fill=body, width=max(1, unit // 2))
        for wy in range(y0 + 2 * unit, height - top - unit, 3 * unit):
            for wx in range(x + unit, x + w - 2 * unit + 1, 2 * unit + unit // 2):
                if rng.random() < lit:
                    box = (wx, wy, wx + unit, wy + unit + unit // 2)
                    draw.rectangle(box, fill=glass)
                    windows.append((box[0], box[1] + top, box[2], box[3] + top))
        x += w + int(rng.random() * 3 * unit)
    return Layer(image, y=top, vx=vx), windows


class WindowFlicker:
    """Some windows go dark and light again, each on its own slow rhythm."""

    def __init__(self, windows: list[Window], layer: Layer, rng: np.random.Generator, body: RGB,
                 light: RGB) -> None:
        picks: list[int] = list(rng.choice(len(windows), size=min(len(windows), 60), replace=False)) if windows else []
        self.windows = [(windows[i], float(rng.random() * 6.28), 0.2 + float(rng.random()) * 0.6) for i in picks]
        self.layer, self.dark, self.light = layer, _rgba(body), _rgba(light, 0.95)

    def apply(self, frame: Image.Image, t: float) -> Image.Image:
        draw = ImageDraw.Draw(frame)
        dx = round(self.layer.vx * t)
        for (x0, y0, x1, y1), phase, rate in self.windows:
            on = math.sin(phase + t * rate * 3) > -0.6
            draw.rectangle((x0 + dx, y0, x1 + dx, y1), fill=self.light if on else self.dark)
        return frame
