"""The local provider's images: text_to_image and image_to_image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shared.media.probe import probe
from tests.providers.local_support import (
    generate,
    image_input,
)
from workers.providers.base import GenerationFailed

# text_to_image -----------------------------------------------------------------------------------


def test_text_to_image_writes_n_pngs_of_the_requested_size(tmp_path: Path) -> None:
    outputs = generate(tmp_path, "text_to_image", "snowy mountains at sunset",
                       {"n": 2, "size": "512x512", "seed": 1})
    assert len(outputs) == 2
    for output in outputs:
        assert (output.content_type, output.kind) == ("image/png", "image")
        with Image.open(output.path) as image:
            assert image.format == "PNG" and image.size == (512, 512)
    wide = generate(tmp_path / "wide", "text_to_image", "city skyline", {"n": 1, "size": "1792x1024", "seed": 1})
    with Image.open(wide[0].path) as image:
        assert image.size == (1792, 1024)


def test_rendered_images_state_what_a_full_probe_measures(tmp_path: Path) -> None:
    """The worker stores the renderer's own images without decoding them again (``Output.known``):
    what the renderer states must be exactly what probing and decoding the file finds."""
    outputs = generate(tmp_path / "t", "text_to_image", "harbour at dusk",
                       {"n": 2, "size": "1024x1792", "seed": 2, "upscale": "2x"})
    source = tmp_path / "source.png"
    Image.new("RGB", (640, 480), (40, 90, 160)).save(source)
    outputs += generate(tmp_path / "i", "image_to_image", "watercolour", {"n": 1, "strength": 0.5},
                        inputs={"image": image_input(source)})
    for output in outputs:
        assert output.known is not None
        assert output.known == probe(output.path, "image")
    assert outputs[0].known.width == 2048


def test_text_to_image_is_deterministic_per_prompt_and_seed(tmp_path: Path) -> None:
    params = {"n": 1, "size": "512x512", "seed": 7}
    first = generate(tmp_path / "a", "text_to_image", "a lighthouse by the ocean", params)[0].path.read_bytes()
    again = generate(tmp_path / "b", "text_to_image", "a lighthouse by the ocean", params)[0].path.read_bytes()
    other_seed = generate(tmp_path / "c", "text_to_image", "a lighthouse by the ocean",
                          {**params, "seed": 8})[0].path.read_bytes()
    assert first == again
    assert first != other_seed


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32)


def test_different_prompts_give_visibly_different_images(tmp_path: Path) -> None:
    prompts = ["snowy mountains at sunset", "neon city skyline at night", "a ringed planet in deep space",
               "abstract geometric poster in red and blue", "calm ocean at dawn", "psychedelic marble flow"]
    images = [_pixels(generate(tmp_path / str(i), "text_to_image", p, {"size": "512x512", "seed": 3})[0].path)
              for i, p in enumerate(prompts)]
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            difference = float(np.abs(images[i] - images[j]).mean())
            assert difference > 15, (prompts[i], prompts[j], difference)


def test_images_are_pictures_not_noise(tmp_path: Path) -> None:
    for i, prompt in enumerate(["forest lake with birds", "a cat on a sofa", "geometric bauhaus shapes"]):
        pixels = _pixels(generate(tmp_path / str(i), "text_to_image", prompt, {"size": "512x512", "seed": 5})[0].path)
        neighbour_step = float(np.abs(np.diff(pixels, axis=1)).mean())
        assert neighbour_step < 6, prompt  # white noise would be ~85
        assert float(pixels.std()) > 15, prompt  # not a flat fill


def test_negative_prompt_changes_the_picture(tmp_path: Path) -> None:
    params = {"size": "512x512", "seed": 2}
    plain = generate(tmp_path / "a", "text_to_image", "red sunset over the sea", params)[0].path.read_bytes()
    without = generate(tmp_path / "b", "text_to_image", "red sunset over the sea",
                       {**params, "negative_prompt": "sun, red, clouds"})[0].path.read_bytes()
    assert plain != without


# image_to_image ----------------------------------------------------------------------------------


def test_image_to_image_keeps_aspect_and_follows_prompt(tmp_path: Path, portrait: Path) -> None:
    inputs = {"image": image_input(portrait)}
    sketch = generate(tmp_path / "a", "image_to_image", "pencil sketch", {"strength": 0.8, "seed": 1}, inputs)
    neon = generate(tmp_path / "b", "image_to_image", "neon cyberpunk glow", {"strength": 0.8, "seed": 1}, inputs)
    assert sketch[0].content_type == "image/png"
    a, b = _pixels(sketch[0].path), _pixels(neon[0].path)
    assert a.shape[:2] == (800, 640)  # 640×800 in, aspect kept
    assert float(np.abs(a - b).mean()) > 20
    again = generate(tmp_path / "c", "image_to_image", "pencil sketch", {"strength": 0.8, "seed": 1}, inputs)
    assert again[0].path.read_bytes() == sketch[0].path.read_bytes()


def test_image_to_image_strength_scales_the_change(tmp_path: Path, portrait: Path) -> None:
    with Image.open(portrait) as image:
        original = np.asarray(image.convert("RGB"), dtype=np.float32)
    changes = []
    for strength in (0.0, 0.3, 1.0):
        out = generate(tmp_path / str(strength), "image_to_image", "vintage sepia photo",
                       {"strength": strength, "seed": 4}, {"image": image_input(portrait)})
        changes.append(float(np.abs(_pixels(out[0].path) - original).mean()))
    assert changes[0] < 3
    assert changes[0] < changes[1] < changes[2]


def test_image_to_image_caps_the_long_side(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    Image.new("RGB", (2400, 1200), (200, 120, 40)).save(big)
    out = generate(tmp_path, "image_to_image", "watercolor", {"seed": 1}, {"image": image_input(big)})
    with Image.open(out[0].path) as image:
        assert image.size == (1024, 512)


def test_undecodable_input_image_fails_the_job(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"<html>not an image</html>")
    with pytest.raises(GenerationFailed):
        generate(tmp_path, "image_to_image", "sketch", {"seed": 1}, {"image": image_input(bad)})
