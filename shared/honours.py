"""What a model honours: the one check of a job's parameters against the model that serves it.

Some of a mode's parameters are not honoured by every model of it. Each such parameter is
declared by one *capability*, a key of the model's catalog entry (``ModelSpec.capabilities``,
shown in ``GET /v1/models`` and settable in the models file): ``HONOURED`` lists them per mode.
A capability either lists the values the model takes (``sizes = ["1024x1024"]``) or, present at
all, says the model takes every value the request allows (``speed = [0.25, 4]``, ``loop = true``).
A model without the capability takes the request's default only, or, for a parameter every
upstream passes on as asked (an image's ``size``, an audio ``output_format``, a ``language``),
any value. ``unhonoured`` answers which given parameter a model does not honour: checked when a
job is submitted (before any input is fetched or credit held) and when its fallbacks are chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shared.jobs.modes import MODE_NAMES, spec_for


@dataclass(frozen=True)
class Honoured:
    """A parameter of a mode that a model honours only as its capability declares."""

    param: str
    #: The key of the model's ``capabilities`` that declares it.
    capability: str
    #: True: the capability lists the values the model takes; False: declared, it takes any.
    listed: bool = False
    #: What a model without the capability takes: only the request's ``default``, or ``any`` value.
    undeclared: Literal["default", "any"] = "default"
    #: The refusal of a value the model does not declare (formatted with ``model``).
    refusal: str = "is not supported by model {model}"
    #: The refusal of a value outside the listed ones (formatted with ``model`` and ``values``).
    outside: str = "{model} takes {values} only"


_MAKES = "{model} makes {values} only"
_OUTPUT_FORMAT = Honoured("output_format", "output_formats", listed=True, undeclared="any",
                          outside="{model} produces {values}")
_NEGATIVE_PROMPT = Honoured("negative_prompt", "negative_prompt")


def _framing(*extra: Honoured) -> tuple[Honoured, ...]:
    framing = (Honoured("aspect_ratio", "aspect_ratios", listed=True), Honoured("fps", "fps"),
               Honoured("loop", "loop"), Honoured("resolution", "resolutions", listed=True))
    return tuple(sorted(framing + extra, key=lambda h: h.param))


#: Per mode, in the order they are checked (the first one not honoured is the one refused).
HONOURED: dict[str, tuple[Honoured, ...]] = {
    "text_to_image": (Honoured("quality", "qualities", listed=True), Honoured("style", "styles", listed=True),
                      Honoured("upscale", "upscale", listed=True),
                      Honoured("size", "sizes", listed=True, undeclared="any", outside=_MAKES)),
    "image_to_image": (Honoured("mask_asset_id", "mask"), Honoured("mask_url", "mask"),
                       Honoured("n", "max_images"), Honoured("size", "sizes", listed=True, outside=_MAKES)),
    "audio": (Honoured("speed", "speed", refusal="{model} speaks at one speed only (1)"), _OUTPUT_FORMAT),
    "music": (_NEGATIVE_PROMPT, _OUTPUT_FORMAT),
    "image_to_video": _framing(),
    "text_to_video": _framing(_NEGATIVE_PROMPT),
    "transcription": (Honoured("language", "languages", listed=True, undeclared="any",
                               outside="{model} recognises {values} only"),),
    "video_to_video": (),
    "audio_to_audio": (_OUTPUT_FORMAT,),
}
assert set(HONOURED) == set(MODE_NAMES), "every mode says which of its parameters a model declares"


def _refusal(rule: Honoured, model_id: str, mode: str, capabilities: Mapping[str, Any], value: Any) -> str | None:
    if rule.capability in capabilities:
        values = capabilities[rule.capability]
        if rule.listed and value not in values:
            return rule.outside.format(model=model_id, values=", ".join(str(v) for v in values))
        return None
    if rule.undeclared == "any" or value == spec_for(mode).request.model_fields[rule.param].default:
        return None
    return rule.refusal.format(model=model_id)


def unhonoured(model_id: str, mode: str, capabilities: Mapping[str, Any],
               params: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first of ``params`` (a job's parameters, defaults filled in) that the model
    ``model_id`` of ``mode`` with these ``capabilities`` does not honour, and why; or None."""
    for rule in HONOURED.get(mode, ()):
        value = params.get(rule.param)
        if value is None:
            continue
        reason = _refusal(rule, model_id, mode, capabilities, value)
        if reason is not None:
            return rule.param, reason
    return None
