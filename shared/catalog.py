"""The model catalog: which public model id runs on which provider, at what price.

The built-in catalog holds the offline ``local`` models and the common upstream models.
``ATELIER_MODELS_FILE`` (TOML or YAML) adds models or overrides built-in ones by id, or
replaces the built-in list with ``include_builtin = false``. A model is *available* when its
provider is enabled (``local`` always; upstreams when their credential is set).

Chat and embedding models are relayed to OpenAI-compatible upstreams from the API process:
OpenAI itself (``ATELIER_OPENAI_*``), or any server given in a catalog entry's own
``base_url``, with its key read from the environment variable named by ``api_key_env``
(an entry without ``api_key_env`` needs no key, like a local Ollama); such an entry is
available when that variable is set.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from shared.credits.pricing import PriceRule, describe
from shared.errors import ModelNotFound, ValidationError
from shared.honours import unhonoured
from shared.jobs.modes import (
    MAX_COMPAT_IMAGES,
    MODE_NAMES,
    MUSIC_SECONDS,
    TRANSCRIPTION_MAX_SECONDS,
    VIDEO_SECONDS,
    Mode,
    spec_for,
)
from shared.jobs.requests import AudioFormat, ImageQuality, Size
from shared.media.video_format import MAX_FPS, MIN_FPS, AspectRatio, Resolution
from shared.media.voices import VOICE_IDS
from shared.settings import Settings, get_settings

#: Answered synchronously by an OpenAI-compatible upstream, without a job.
RelayMode = Literal["chat", "embedding"]
RELAY_MODES: tuple[RelayMode, ...] = get_args(RelayMode)
#: The relayed modes' price rules (a job mode's are in its registry entry).
RELAY_PRICING: dict[str, tuple[PriceRule, ...]] = {
    "chat": (PriceRule("chat", "request", "request", 1, 1), PriceRule("chat", "tool_call", "call", 1, 1)),
    "embedding": (PriceRule("embedding", "request", "request", 1, 1),),
}
#: The OpenAI-style category a mode's models are listed under.
CATEGORY = {"text_to_image": "image", "image_to_image": "image", "audio": "audio", "music": "music",
            "image_to_video": "video", "text_to_video": "video", "transcription": "transcription",
            "video_to_video": "video", "audio_to_audio": "music", "chat": "chat", "embedding": "embedding"}
#: ``created`` of the built-in models (the catalog's own date); file entries may set theirs.
BUILTIN_CREATED = 1763769600

@dataclass(frozen=True)
class ModelSpec:
    id: str
    mode: Mode | RelayMode
    provider: str
    provider_model: str
    #: Per-model price rules; ``None`` means the mode's rules.
    pricing: tuple[PriceRule, ...] | None = None
    fallbacks: tuple[str, ...] = ()
    default: bool = False
    capabilities: dict[str, Any] = field(default_factory=dict)
    #: Relay models only: the upstream's OpenAI-compatible base URL and its key's variable.
    base_url: str | None = None
    api_key_env: str | None = None
    created: int = BUILTIN_CREATED

    def unsupported(self, params: Mapping[str, Any]) -> tuple[str, str] | None:
        """The parameter of a job's ``params`` this model does not honour and why, or None:
        what its ``capabilities`` declare, checked as ``shared.honours`` says."""
        return unhonoured(self.id, self.mode, self.capabilities, params)

    def refuse_unsupported(self, params: Mapping[str, Any]) -> None:
        """A 400 naming the parameter this model does not honour (see ``unsupported``)."""
        found = self.unsupported(params)
        if found is not None:
            raise ValidationError.field(*found)

    @property
    def category(self) -> str:
        return CATEGORY[self.mode]

    @property
    def price_rules(self) -> list[PriceRule]:
        if self.pricing is not None:
            return list(self.pricing)
        if self.mode in RELAY_PRICING:
            return list(RELAY_PRICING[self.mode])
        return list(spec_for(self.mode).pricing)


_FRAMING = {"resolutions": list(get_args(Resolution)), "fps": [MIN_FPS, MAX_FPS],
            "aspect_ratios": list(get_args(AspectRatio)), "loop": True}
_AUDIO_FORMATS = list(get_args(AudioFormat))
#: What the built-in renderer makes and honours, per mode (``shared.honours``): the capabilities
#: of its models, and of a models-file entry the ``local`` provider serves (under the entry's own).
LOCAL_CAPABILITIES: dict[Mode, dict[str, Any]] = {
    "text_to_image": {"sizes": list(get_args(Size)), "max_images": MAX_COMPAT_IMAGES, "styles": ["vivid", "natural"],
                      "qualities": list(get_args(ImageQuality)), "upscale": ["2x", "4x"], "output": "image/png"},
    "image_to_image": {"sizes": list(get_args(Size)), "max_images": MAX_COMPAT_IMAGES, "mask": True,
                       "output": "image/png"},
    "audio": {"voices": list(VOICE_IDS), "output_formats": _AUDIO_FORMATS, "speed": [0.25, 4]},
    "music": {"max_duration_seconds": MUSIC_SECONDS.high, "output_formats": _AUDIO_FORMATS, "negative_prompt": True},
    "image_to_video": {"output": "video/mp4", **_FRAMING},
    "transcription": {"languages": ["en"], "output": "application/json",
                      "max_duration_seconds": TRANSCRIPTION_MAX_SECONDS},
    "text_to_video": {"max_duration_seconds": VIDEO_SECONDS.high, "output": "video/mp4", **_FRAMING,
                      "negative_prompt": True},
    "video_to_video": {"max_duration_seconds": VIDEO_SECONDS.high, "output": "video/mp4"},
    "audio_to_audio": {"max_duration_seconds": MUSIC_SECONDS.high, "output_formats": _AUDIO_FORMATS},
}


def _local(model_id: str, mode: Mode) -> ModelSpec:
    return ModelSpec(model_id, mode, "local", model_id.split("/", 1)[1], default=True,
                     capabilities=dict(LOCAL_CAPABILITIES[mode]))


BUILTIN: tuple[ModelSpec, ...] = (
    _local("local/sketch-1", "text_to_image"),
    _local("local/remix-1", "image_to_image"),
    _local("local/voice-1", "audio"),
    _local("local/compose-1", "music"),
    _local("local/avatar-1", "image_to_video"),
    _local("local/transcribe-1", "transcription"),
    _local("local/motion-1", "text_to_video"),
    _local("local/restyle-video-1", "video_to_video"),
    _local("local/rework-1", "audio_to_audio"),
    # ``sizes``: what each upstream makes exactly (fal takes any width and height; FLUX on Replicate
    # takes an aspect ratio and 1 or 0.25 megapixels; gpt-image-1 makes 1024x1024, 1536x1024, 1024x1536).
    ModelSpec("fal-ai/flux/dev", "text_to_image", "fal", "fal-ai/flux/dev",
              fallbacks=("black-forest-labs/flux-schnell",), capabilities={"sizes": list(get_args(Size))}),
    ModelSpec("fal-ai/flux/dev/image-to-image", "image_to_image", "fal", "fal-ai/flux/dev/image-to-image"),
    ModelSpec("fal-ai/stable-audio", "music", "fal", "fal-ai/stable-audio"),
    ModelSpec("fal-ai/f5-tts", "audio", "fal", "fal-ai/f5-tts", fallbacks=("openai/tts-1",)),
    ModelSpec("fal-ai/minimax/hailuo-02/standard/text-to-video", "text_to_video", "fal",
              "fal-ai/minimax/hailuo-02/standard/text-to-video"),
    ModelSpec("fal-ai/whisper", "transcription", "fal", "fal-ai/whisper",
              capabilities={"output": "application/json", "word_timestamps": False}),
    ModelSpec("openai/whisper-1", "transcription", "openai", "whisper-1",
              capabilities={"output": "application/json", "word_timestamps": True}),
    ModelSpec("black-forest-labs/flux-schnell", "text_to_image", "replicate", "black-forest-labs/flux-schnell",
              capabilities={"sizes": ["512x512", "1024x1024"]}),
    ModelSpec("openai/gpt-image-1", "text_to_image", "openai", "gpt-image-1", capabilities={"sizes": ["1024x1024"]}),
    ModelSpec("openai/tts-1", "audio", "openai", "tts-1",
              capabilities={"output_formats": list(get_args(AudioFormat)), "speed": [0.25, 4]}),
    ModelSpec("openai/gpt-4o-mini", "chat", "openai", "gpt-4o-mini", default=True),
    ModelSpec("openai/gpt-4o", "chat", "openai", "gpt-4o"),
    ModelSpec("openai/gpt-4.1-mini", "chat", "openai", "gpt-4.1-mini"),
    ModelSpec("openai/text-embedding-3-small", "embedding", "openai", "text-embedding-3-small", default=True),
    ModelSpec("openai/text-embedding-3-large", "embedding", "openai", "text-embedding-3-large"),
)


def enabled_providers(settings: Settings) -> set[str]:
    enabled = {"local"}
    if settings.fal_key:
        enabled.add("fal")
    if settings.replicate_api_token:
        enabled.add("replicate")
    if settings.openai_api_key:
        enabled.add("openai")
    return enabled


def _spec_from_dict(raw: dict[str, Any]) -> ModelSpec:
    try:
        if raw["mode"] not in MODE_NAMES + RELAY_MODES:
            raise ValueError(f"unknown mode {raw['mode']!r}")
        mode = raw["mode"] if raw["mode"] in RELAY_MODES else spec_for(raw["mode"]).name
        if raw.get("base_url") and mode not in RELAY_MODES:
            raise ValueError("base_url is only for chat and embedding models")
        if mode in RELAY_MODES and not raw.get("base_url") and raw["provider"] != "openai":
            raise ValueError("a chat or embedding model needs a base_url (or provider openai)")
        pricing = raw.get("pricing")
        return ModelSpec(
            id=raw["id"], mode=mode, provider=raw["provider"],
            provider_model=raw.get("provider_model", raw["id"]),
            pricing=tuple(PriceRule(mode=mode, **rule) for rule in pricing) if pricing is not None else None,
            fallbacks=tuple(raw.get("fallbacks", ())), default=bool(raw.get("default", False)),
            capabilities={**(LOCAL_CAPABILITIES.get(mode, {}) if raw["provider"] == "local" else {}),
                          **raw.get("capabilities", {})},
            base_url=raw.get("base_url"), api_key_env=raw.get("api_key_env"),
            created=int(raw.get("created", BUILTIN_CREATED)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"invalid model entry {raw.get('id', raw)!r}: {exc}") from exc


def load_file(path: Path) -> tuple[list[ModelSpec], bool]:
    text = path.read_text()
    data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else tomllib.loads(text)
    data = data or {}
    return [_spec_from_dict(m) for m in data.get("models", [])], bool(data.get("include_builtin", True))


class Catalog:
    def __init__(self, models: Iterable[ModelSpec], enabled: set[str]) -> None:
        self._all = {m.id: m for m in models}
        self._enabled = enabled

    @classmethod
    def from_settings(cls, settings: Settings) -> Catalog:
        models = list(BUILTIN)
        if settings.models_file:
            extra, include_builtin = load_file(settings.models_file)
            # A mode the file names a default for loses its built-in default.
            file_defaults = {m.mode for m in extra if m.default}
            base = [replace(m, default=False) if m.mode in file_defaults else m
                    for m in (models if include_builtin else [])]
            by_id = {m.id: m for m in base}
            by_id.update({m.id: m for m in extra})
            models = list(by_id.values())
        return cls(models, enabled_providers(settings))

    def _usable(self, spec: ModelSpec) -> bool:
        if spec.base_url:
            return spec.api_key_env is None or bool(os.environ.get(spec.api_key_env))
        return spec.provider in self._enabled

    def available(self, mode: str | None = None) -> list[ModelSpec]:
        return [m for m in self._all.values() if self._usable(m) and (mode is None or m.mode == mode)]

    def find(self, name: str, mode: str | None = None) -> ModelSpec | None:
        """An available model by catalog id or, where only one has it, by its provider's name."""
        spec = self._all.get(name)
        if spec is not None:
            return spec if self._usable(spec) and mode in (None, spec.mode) else None
        same = [m for m in self.available(mode) if m.provider_model == name]
        return same[0] if len(same) == 1 else None

    def default_for(self, mode: str) -> ModelSpec:
        models = self.available(mode)
        if not models:
            raise ModelNotFound(f"No model is available for mode {mode}.", param="model",
                                details={"available_models": [m.id for m in self.available()]})
        return next((m for m in models if m.default), models[0])

    def resolve(self, mode: str, model_id: str | None) -> ModelSpec:
        if model_id is None:
            return self.default_for(mode)
        spec = self.find(model_id, mode)
        if spec is None:
            names = [m.id for m in self.available(mode)]
            raise ModelNotFound(f"Model {model_id!r} is not available for {mode}.", param="model",
                                details={"available_models": names})
        return spec

    def defaults(self) -> dict[str, str]:
        """mode → its default model's id, for every mode an available model serves."""
        return {mode: self.default_for(mode).id for mode in MODE_NAMES + RELAY_MODES if self.available(mode)}

    def get(self, model_id: str) -> ModelSpec | None:
        spec = self._all.get(model_id)
        return spec if spec and self._usable(spec) else None

    def fallbacks(self, spec: ModelSpec, params: Mapping[str, Any] | None = None) -> list[ModelSpec]:
        """``spec``'s available fallbacks; given a job's ``params``, only those that honour them all."""
        chain = [self.get(fid) for fid in spec.fallbacks]
        return [m for m in chain if m is not None and m.mode == spec.mode
                and (params is None or m.unsupported(params) is None)]


def model_view(model: ModelSpec, defaults: Mapping[str, str]) -> dict[str, Any]:
    """A model as ``GET /v1/models`` shows it; ``defaults`` is ``Catalog.defaults()``."""
    return {"id": model.id, "object": "model", "created": model.created, "owned_by": model.provider,
            "category": model.category, "mode": model.mode, "provider": model.provider,
            "default": defaults.get(model.mode) == model.id, "capabilities": model.capabilities,
            "pricing": describe(model.price_rules), "fallbacks": list(model.fallbacks)}


@lru_cache
def get_catalog() -> Catalog:
    """The process's catalog, built once from the settings (and the models file, if any)."""
    return Catalog.from_settings(get_settings())
