"""The local image renderer honours every image option: style, quality, upscale, n and size
for edits, and a mask that confines an edit to its transparent pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.providers.local_support import generate, image_input
from workers.providers.base import InputFile
from workers.providers.local.finish import InvalidInput

PROMPT = "a mountain lake at sunset"
BASE = {"n": 1, "size": "512x512", "seed": 5}


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32)


def _saturation(pixels: np.ndarray) -> float:
    return float((pixels.max(axis=2) - pixels.min(axis=2)).mean())


def test_vivid_is_more_saturated_and_contrasted_than_natural(tmp_path: Path) -> None:
    plain, vivid, natural = (_rgb(generate(tmp_path / name, "text_to_image", PROMPT, {**BASE, **extra})[0].path)
                             for name, extra in (("plain", {}), ("vivid", {"style": "vivid"}),
                                                 ("natural", {"style": "natural"})))
    assert _saturation(vivid) > _saturation(plain) * 1.2 > _saturation(natural) * 1.3
    assert vivid.std() > plain.std() > natural.std()
    assert float(np.abs(vivid - natural).mean()) > 8  # visibly different, not a rounding


@pytest.mark.parametrize(("upscale", "factor"), [("2x", 2), ("4x", 4)])
def test_upscale_resamples_the_finished_image(tmp_path: Path, upscale: str, factor: int) -> None:
    plain = _rgb(generate(tmp_path / "plain", "text_to_image", PROMPT, BASE)[0].path)
    (output,) = generate(tmp_path / "up", "text_to_image", PROMPT, {**BASE, "upscale": upscale})
    with Image.open(output.path) as image:
        assert image.size == (512 * factor, 512 * factor)
        reduced = np.asarray(image.convert("RGB").resize((512, 512), Image.Resampling.BOX), dtype=np.float32)
    assert float(np.abs(reduced - plain).mean()) < 3  # the same picture, enlarged


def test_quality_changes_how_finely_the_same_picture_is_rendered(tmp_path: Path) -> None:
    renders = {q: _rgb(generate(tmp_path / q, "text_to_image", PROMPT, {**BASE, "quality": q})[0].path)
               for q in ("low", "standard", "hd")}
    assert all(r.shape == (512, 512, 3) for r in renders.values())
    assert float(np.abs(renders["low"] - renders["standard"]).mean()) > 0.5
    assert float(np.abs(renders["hd"] - renders["standard"]).mean()) > 0.5
    # Same scene throughout: the differences are detail, not content.
    assert float(np.abs(renders["low"] - renders["hd"]).mean()) < 20


def _portrait(path: Path, size: tuple[int, int] = (600, 400)) -> Path:
    rng = np.random.default_rng(3)
    base = np.linspace(0, 255, size[0], dtype=np.float32)[None, :, None] * np.ones((size[1], 1, 3))
    noise = rng.integers(0, 40, (size[1], size[0], 3))
    Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8)).save(path)
    return path


def _mask(path: Path, size: tuple[int, int], box: tuple[int, int, int, int]) -> Path:
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), box)  # transparent: may change
    mask.save(path)
    return path


def test_an_edit_with_a_mask_changes_only_its_transparent_pixels(tmp_path: Path) -> None:
    image = _portrait(tmp_path / "in.png")
    mask = _mask(tmp_path / "mask.png", (600, 400), (100, 100, 300, 250))
    inputs = {"image": image_input(image), "mask": InputFile("mask", "ast_mask", "image", "image/png", mask)}
    outputs = generate(tmp_path / "out", "image_to_image", "sketch", {"strength": 1.0, "n": 2, "seed": 1}, inputs)
    original = _rgb(image)
    inside = np.zeros(original.shape[:2], dtype=bool)
    inside[100:250, 100:300] = True
    for output in outputs:
        edited = _rgb(output.path)
        assert edited.shape == original.shape
        assert np.array_equal(edited[~inside], original[~inside])
        assert float(np.abs(edited[inside] - original[inside]).mean()) > 10
    assert not np.array_equal(_rgb(outputs[0].path), _rgb(outputs[1].path))  # n variations


def test_an_edit_is_fitted_to_the_requested_size(tmp_path: Path) -> None:
    (output,) = generate(tmp_path, "image_to_image", "vintage", {"size": "512x512", "seed": 1},
                         {"image": image_input(_portrait(tmp_path / "in.png"))})
    with Image.open(output.path) as image:
        assert image.size == (512, 512)


def test_a_mask_without_transparency_is_the_callers_fault(tmp_path: Path) -> None:
    opaque = tmp_path / "opaque.png"
    Image.new("RGB", (600, 400), (0, 0, 0)).save(opaque)
    inputs = {"image": image_input(_portrait(tmp_path / "in.png")),
              "mask": InputFile("mask", "ast_mask", "image", "image/png", opaque)}
    with pytest.raises(InvalidInput, match="no transparency") as caught:
        generate(tmp_path / "out", "image_to_image", "sketch", {"seed": 1}, inputs)
    assert caught.value.code == "INVALID_INPUT"
