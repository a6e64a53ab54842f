"""``shared.honours.unhonoured``: the one answer to "which given parameter does this model not honour?"."""

from __future__ import annotations

from typing import Any

import pytest

from shared.catalog import BUILTIN, LOCAL_CAPABILITIES, load_file
from shared.honours import HONOURED, unhonoured
from shared.jobs import modes


def _params(body: dict[str, Any]) -> dict[str, Any]:
    return modes.parse(body).params()


@pytest.mark.parametrize(("mode", "capabilities", "body", "expected"), [
    # Undeclared: only the request's default is honoured, whether given or not.
    ("text_to_image", {}, {"prompt": "p", "style": "vivid"}, ("style", "is not supported by model m")),
    ("image_to_image", {}, {"prompt": "p", "input_image_asset_id": "a", "n": 1}, None),
    ("image_to_image", {}, {"prompt": "p", "input_image_asset_id": "a", "n": 2}, ("n", "is not supported by model m")),
    ("text_to_video", {}, {"prompt": "p", "fps": 24, "resolution": "720p"}, None),
    ("text_to_video", {}, {"prompt": "p", "fps": 30}, ("fps", "is not supported by model m")),
    ("audio", {}, {"voice_text": "hi", "speed": 2.0}, ("speed", "m speaks at one speed only (1)")),
    # Undeclared, but every value is passed on as asked.
    ("text_to_image", {}, {"prompt": "p", "size": "1792x1024"}, None),
    ("transcription", {}, {"audio_asset_id": "a", "language": "de"}, None),
    # Declared by presence: any value the request allows.
    ("audio", {"speed": [0.25, 4]}, {"voice_text": "hi", "speed": 2.0}, None),
    ("text_to_video", {"fps": [8, 30]}, {"prompt": "p", "fps": 30}, None),
    # Declared by a list: the listed values only, the default included.
    ("text_to_image", {"sizes": ["512x512"]}, {"prompt": "p"}, ("size", "m makes 512x512 only")),
    ("text_to_image", {"styles": ["natural"]}, {"prompt": "p", "style": "vivid"}, ("style", "m takes natural only")),
    ("audio", {"output_formats": ["wav"]}, {"voice_text": "hi"}, ("output_format", "m produces wav")),
    ("transcription", {"languages": ["en", "fr"]}, {"audio_asset_id": "a", "language": "de"},
     ("language", "m recognises en, fr only")),
    # The first refused in the mode's order.
    ("text_to_image", {"sizes": ["512x512"]}, {"prompt": "p", "upscale": "2x", "quality": "hd"},
     ("quality", "is not supported by model m")),
])
def test_unhonoured_names_the_first_parameter_a_model_does_not_declare(mode, capabilities, body, expected):
    assert unhonoured("m", mode, capabilities, _params({"mode": mode, **body})) == expected


def test_every_declarable_parameter_is_a_field_of_its_mode():
    for mode, rules in HONOURED.items():
        fields = modes.spec_for(mode).request.model_fields
        assert all(rule.param in fields for rule in rules), mode


def test_the_local_renderer_declares_every_value_of_every_declarable_parameter():
    for spec in (m for m in BUILTIN if m.provider == "local"):
        assert spec.capabilities == LOCAL_CAPABILITIES[spec.mode]
        for rule in HONOURED[spec.mode]:
            assert rule.capability in spec.capabilities, (spec.id, rule.param)


def test_a_models_file_entry_the_local_provider_serves_declares_what_the_renderer_honours(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text("models:\n  - {id: acme/remix, mode: image_to_image, provider: local,"
                    " capabilities: {sizes: ['512x512']}}\n"
                    "  - {id: acme/remix-up, mode: image_to_image, provider: fal}\n")
    local, upstream = load_file(path)[0]
    params = _params({"mode": "image_to_image", "prompt": "p", "input_image_asset_id": "a", "n": 3,
                      "mask_asset_id": "b", "size": "1024x1024"})
    assert local.unsupported({**params, "size": "512x512"}) is None
    assert local.unsupported(params) == ("size", "acme/remix makes 512x512 only")
    assert upstream.unsupported(params) == ("mask_asset_id", "is not supported by model acme/remix-up")
