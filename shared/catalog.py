"""The model catalog: which public model id runs on which provider, at what price.

The built-in catalog holds the offline ``local`` models and the common upstream models.
``ATELIER_MODELS_FILE`` (TOML or YAML) adds models or overrides built-in ones by id, or
replaces the built-in list with ``include_builtin = false``. A model is *available* when its
provider is enabled (``local`` always; upstreams when their credential is set).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

import yaml

from shared.credits.pricing import PriceRule
from shared.errors import ModelNotFound
from shared.jobs.modes import MODE_NAMES, MODES, MUSIC_SECONDS, VIDEO_SECONDS, Mode, spec_for
from shared.jobs.requests import Size
from shared.media.voices import VOICE_IDS
from shared.settings import Settings, get_settings


@dataclass(frozen=True)
class ModelSpec:
    id: str
    mode: Mode
    provider: str
    provider_model: str
    #: Per-model price rules; ``None`` means the mode's rules.
    pricing: tuple[PriceRule, ...] | None = None
    fallbacks: tuple[str, ...] = ()
    default: bool = False
    capabilities: dict[str, Any] = field(default_factory=dict)

    @property
    def price_rules(self) -> list[PriceRule]:
        return list(self.pricing if self.pricing is not None else MODES[self.mode].pricing)


def _local(model_id: str, mode: Mode, **caps: Any) -> ModelSpec:
    return ModelSpec(model_id, mode, "local", model_id.split("/", 1)[1], default=True, capabilities=caps)


BUILTIN: tuple[ModelSpec, ...] = (
    _local("local/sketch-1", "text_to_image", sizes=list(get_args(Size)),
           max_images=4, output="image/png"),
    _local("local/remix-1", "image_to_image", output="image/png"),
    _local("local/voice-1", "audio", voices=list(VOICE_IDS),
           output=["audio/mpeg", "audio/wav"]),
    _local("local/compose-1", "music", max_duration_seconds=MUSIC_SECONDS.high, output=["audio/mpeg", "audio/wav"]),
    _local("local/avatar-1", "image_to_video", output="video/mp4"),
    _local("local/motion-1", "text_to_video", max_duration_seconds=VIDEO_SECONDS.high, output="video/mp4"),
    ModelSpec("fal-ai/flux/dev", "text_to_image", "fal", "fal-ai/flux/dev",
              fallbacks=("black-forest-labs/flux-schnell",)),
    ModelSpec("fal-ai/flux/dev/image-to-image", "image_to_image", "fal", "fal-ai/flux/dev/image-to-image"),
    ModelSpec("fal-ai/stable-audio", "music", "fal", "fal-ai/stable-audio"),
    ModelSpec("fal-ai/f5-tts", "audio", "fal", "fal-ai/f5-tts", fallbacks=("openai/tts-1",)),
    ModelSpec("fal-ai/minimax/hailuo-02/standard/text-to-video", "text_to_video", "fal",
              "fal-ai/minimax/hailuo-02/standard/text-to-video"),
    ModelSpec("black-forest-labs/flux-schnell", "text_to_image", "replicate", "black-forest-labs/flux-schnell"),
    ModelSpec("openai/gpt-image-1", "text_to_image", "openai", "gpt-image-1"),
    ModelSpec("openai/tts-1", "audio", "openai", "tts-1"),
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
        if raw["mode"] not in MODE_NAMES:
            raise ValueError(f"unknown mode {raw['mode']!r}")
        mode = spec_for(raw["mode"]).name
        pricing = raw.get("pricing")
        return ModelSpec(
            id=raw["id"], mode=mode, provider=raw["provider"],
            provider_model=raw.get("provider_model", raw["id"]),
            pricing=tuple(PriceRule(mode=mode, **rule) for rule in pricing) if pricing is not None else None,
            fallbacks=tuple(raw.get("fallbacks", ())), default=bool(raw.get("default", False)),
            capabilities=dict(raw.get("capabilities", {})),
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

    def available(self, mode: str | None = None) -> list[ModelSpec]:
        return [m for m in self._all.values()
                if m.provider in self._enabled and (mode is None or m.mode == mode)]

    def default_for(self, mode: str) -> ModelSpec:
        models = self.available(mode)
        if not models:
            raise ModelNotFound(f"No model is available for mode {mode}.",
                                details={"available_models": [m.id for m in self.available()]})
        return next((m for m in models if m.default), models[0])

    def resolve(self, mode: str, model_id: str | None) -> ModelSpec:
        if model_id is None:
            return self.default_for(mode)
        spec = self._all.get(model_id)
        if spec is None or spec.provider not in self._enabled or spec.mode != mode:
            names = [m.id for m in self.available(mode)]
            raise ModelNotFound(f"Model {model_id!r} is not available for {mode}.",
                                details={"available_models": names})
        return spec

    def get(self, model_id: str) -> ModelSpec | None:
        spec = self._all.get(model_id)
        return spec if spec and spec.provider in self._enabled else None

    def fallbacks(self, spec: ModelSpec) -> list[ModelSpec]:
        chain = [self.get(fid) for fid in spec.fallbacks]
        return [m for m in chain if m is not None and m.mode == spec.mode]


@lru_cache
def get_catalog() -> Catalog:
    """The process's catalog, built once from the settings (and the models file, if any)."""
    return Catalog.from_settings(get_settings())
