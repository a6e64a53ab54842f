"""Reading the caller's input image safely."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from ..base import GenerationFailed

#: Inputs are checked at upload; this only guards against a file swapped in storage.
_MAX_PIXELS = 60_000_000


@contextmanager
def decoding(path: Path, what: str, error: type[GenerationFailed]) -> Iterator[Image.Image]:
    """``path`` opened as an image for the block to decode: one over ``_MAX_PIXELS`` (a
    decompression bomb included), or one the block fails to decode, is refused as ``error``
    naming ``what``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(path)
            if image.width * image.height > _MAX_PIXELS:
                raise error(f"the {what} is too large")
            yield image
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            SyntaxError, ValueError) as exc:
        raise error(f"the {what} could not be decoded: {exc}") from exc


def load_image(path: Path, longest: int, shortest_long_side: int = 0) -> Image.Image:
    """Open an image as RGB, upright per its EXIF orientation, with its long side at most ``longest``.

    Images whose long side is below ``shortest_long_side`` are scaled up to it. JPEGs are
    decoded at reduced size straight away (``draft``), which keeps big photos cheap.
    """
    with decoding(path, "input image", GenerationFailed) as image:
        image.draft("RGB", (longest, longest))
        image = ImageOps.exif_transpose(image)
        image = image.convert("RGBA") if image.mode in ("P", "LA", "PA") else image
        if image.mode == "RGBA":
            # Transparent areas become white rather than black.
            backdrop = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(backdrop, image)
        image = image.convert("RGB")
    side = max(image.size)
    target = min(longest, max(side, shortest_long_side))
    if side != target:
        scale = target / side
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image
