"""text_to_image: one procedural scene per requested image, saved as PNG."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..base import GenerationFailed
from .compose import build_scene
from .finish import Finish
from .prompt import words_of

SIZES = {"512x512": (512, 512), "1024x1024": (1024, 1024), "1792x1024": (1792, 1024),
         "1024x1792": (1024, 1792)}
#: zlib level 2: files about a quarter larger than level 6 for under a third of its CPU time.
PNG_LEVEL = 2


def render_images(prompt: str, count: int, size: str, seed: int, negative_prompt: str | None,
                  workdir: Path, progress: Callable[[float], None], finish: Finish | None = None) -> list[Path]:
    """Render ``count`` images; image ``i`` uses seed ``seed + i``. ``finish`` sets the render
    effort, the style and the enlargement."""
    if size not in SIZES:
        raise GenerationFailed(f"unsupported size {size!r}")
    finish = finish or Finish()
    width, height = SIZES[size]
    words, negative = words_of(prompt), words_of(negative_prompt)
    paths = []
    for i in range(count):
        scene = build_scene(words, negative, seed + i, *finish.render_size(width, height))
        path = workdir / f"image_{i + 1}.png"
        finish.apply(scene.render(0.0), width, height).save(path, format="PNG", compress_level=PNG_LEVEL)
        paths.append(path)
        progress((i + 1) / count)
    return paths
