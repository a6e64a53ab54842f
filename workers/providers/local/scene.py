"""A scene: a background, RGBA layers that may drift, and per-frame effects.

Stills render a scene at ``t = 0``; videos render it at every frame time. Layers are
pre-rendered once (wider than the frame when they pan), so a frame costs a few
Pillow alpha composites plus whatever the effects do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from PIL import Image


class Effect(Protocol):
    def apply(self, frame: Image.Image, t: float) -> Image.Image:
        """Draw onto (or replace) the RGBA frame for time ``t`` seconds."""


@dataclass
class Layer:
    image: Image.Image
    x: float = 0.0
    y: float = 0.0
    #: Pixels per second; panning layers are rendered wide enough for the whole clip.
    vx: float = 0.0
    vy: float = 0.0

    def apply(self, frame: Image.Image, t: float) -> Image.Image:
        frame.alpha_composite(self.image, dest=(round(self.x + self.vx * t), round(self.y + self.vy * t)))
        return frame


@dataclass
class Scene:
    width: int
    height: int
    background: Image.Image
    items: list[Effect] = field(default_factory=list)

    def add(self, item: Effect) -> None:
        self.items.append(item)

    def render(self, t: float = 0.0) -> Image.Image:
        frame = self.background.copy()
        for item in self.items:
            frame = item.apply(frame, t)
        return frame.convert("RGB")
