"""Finishing an image as the request asks: the effort it is rendered with (``quality``), its
look (``style``), its enlargement (``upscale``), and — for edits — the mask that confines a
change to the mask's transparent pixels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

from ..base import GenerationFailed
from .inputs import decoding

#: Render resolution relative to the requested size: ``low`` renders at half size and is
#: resampled up (softer, ~3× faster); ``hd`` renders at 1.5× and is resampled down (finer edges).
RENDER_SCALE = {"low": 0.5, "standard": 1.0, "hd": 1.5}
UPSCALE = {"2x": 2, "4x": 4}
#: (saturation, contrast) factors per style: ``vivid`` is bolder, ``natural`` subdued.
STYLES = {"vivid": (1.45, 1.18), "natural": (0.72, 0.9)}


class InvalidInput(GenerationFailed):
    """An input the caller gave cannot be used as asked (a mask without transparency): the
    caller's fault, so an OpenAI-compatible call answers it as a 400."""

    code = "INVALID_INPUT"


@dataclass(frozen=True)
class Finish:
    style: str | None = None
    quality: str = "standard"
    upscale: str | None = None

    def render_size(self, width: int, height: int) -> tuple[int, int]:
        scale = RENDER_SCALE[self.quality]
        return max(1, round(width * scale)), max(1, round(height * scale))

    def apply(self, image: Image.Image, width: int, height: int) -> Image.Image:
        """``image`` (rendered at ``render_size``) at ``width`` x ``height``, styled, then upscaled."""
        if image.size != (width, height):
            image = image.resize((width, height), Image.Resampling.LANCZOS)
        if self.style is not None:
            saturation, contrast = STYLES[self.style]
            image = ImageEnhance.Contrast(ImageEnhance.Color(image).enhance(saturation)).enhance(contrast)
        if self.upscale is not None:
            factor = UPSCALE[self.upscale]
            image = image.resize((width * factor, height * factor), Image.Resampling.LANCZOS)
        return image


def load_mask(path: Path, size: tuple[int, int]) -> Image.Image:
    """The mask as an ``L`` image of ``size``: 255 where the image may change (transparent in the
    mask), 0 where it must stay as it is (opaque), partial alpha in between."""
    with decoding(path, "mask", InvalidInput) as mask:
        mask = ImageOps.exif_transpose(mask)
        if mask.mode not in ("RGBA", "LA", "PA") and "transparency" not in mask.info:
            raise InvalidInput("the mask has no transparency: its transparent pixels mark where to edit "
                               "(send a PNG with an alpha channel)")
        alpha = mask.convert("RGBA").getchannel("A")
    change = ImageOps.invert(alpha)
    return change if change.size == size else change.resize(size, Image.Resampling.BILINEAR)


def masked(original: Image.Image, edited: Image.Image, change: Image.Image) -> Image.Image:
    """``edited`` where ``change`` allows it, ``original`` (exactly) where the mask was opaque."""
    return Image.composite(edited.convert(original.mode), original, change)
