"""The model catalog: availability by credential, resolution, defaults and catalog files."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.catalog import Catalog, load_file
from shared.credits.pricing import PriceRule
from shared.errors import ModelNotFound
from shared.settings import Settings

LOCAL_MODELS = {"local/sketch-1", "local/remix-1", "local/voice-1", "local/compose-1", "local/avatar-1",
                "local/motion-1", "local/transcribe-1", "local/restyle-video-1", "local/rework-1"}


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch):
    # Settings() reads ATELIER_* from the environment; these tests build their own.
    for name in ("FAL_KEY", "REPLICATE_API_TOKEN", "OPENAI_API_KEY", "MODELS_FILE"):
        monkeypatch.delenv(f"ATELIER_{name}", raising=False)


def catalog(**settings) -> Catalog:
    return Catalog.from_settings(Settings(**settings))


def ids(models) -> set[str]:
    return {m.id for m in models}


def test_without_credentials_only_local_models_are_available():
    assert ids(catalog().available()) == LOCAL_MODELS


def test_a_credential_enables_its_providers_models():
    fal = catalog(fal_key="k")
    assert {m.provider for m in fal.available()} == {"local", "fal"}
    assert "fal-ai/flux/dev" in ids(fal.available("text_to_image"))
    assert "openai/tts-1" in ids(catalog(openai_api_key="k").available("audio"))
    assert "black-forest-labs/flux-schnell" in ids(catalog(replicate_api_token="k").available())


@pytest.mark.parametrize(("mode", "model_id"), [
    ("text_to_image", "fal-ai/flux/dev"),  # known, but no fal credential
    ("text_to_image", "nobody/no-such-model"),
    ("audio", "local/sketch-1"),  # available, but for another mode
])
def test_resolving_an_unusable_model_lists_the_available_ones(mode, model_id):
    with pytest.raises(ModelNotFound) as caught:
        catalog().resolve(mode, model_id)
    assert caught.value.details["available_models"] == [m.id for m in catalog().available(mode)]
    assert caught.value.details["available_models"]


def test_resolve_without_a_model_gives_the_modes_default():
    assert catalog(fal_key="k").resolve("text_to_image", None).id == "local/sketch-1"
    assert catalog().default_for("audio").id == "local/voice-1"


def test_a_catalog_file_default_overrides_the_local_default(tmp_path: Path):
    path = tmp_path / "models.toml"
    path.write_text('[[models]]\nid = "local/sketch-2"\nmode = "text_to_image"\nprovider = "local"\n'
                    'default = true\n')
    assert catalog(models_file=path).default_for("text_to_image").id == "local/sketch-2"


TOML = """
[[models]]
id = "fal-ai/flux-pro"
mode = "text_to_image"
provider = "fal"
provider_model = "fal-ai/flux-pro/v1.1"
fallbacks = ["fal-ai/flux/dev"]
pricing = [{component = "image", unit = "image", per = 1, credits = 4}]
"""

YAML = """
models:
  - id: fal-ai/flux-pro
    mode: text_to_image
    provider: fal
    provider_model: fal-ai/flux-pro/v1.1
    fallbacks: [fal-ai/flux/dev]
    pricing:
      - {component: image, unit: image, per: 1, credits: 4}
"""


@pytest.mark.parametrize(("name", "text"), [("models.toml", TOML), ("models.yaml", YAML)])
def test_toml_and_yaml_catalog_files_load_the_same(tmp_path: Path, name, text):
    path = tmp_path / name
    path.write_text(text)
    models, include_builtin = load_file(path)
    assert include_builtin is True
    (model,) = models
    assert (model.id, model.provider, model.provider_model) == ("fal-ai/flux-pro", "fal", "fal-ai/flux-pro/v1.1")
    assert model.fallbacks == ("fal-ai/flux/dev",)
    assert model.price_rules == [PriceRule("text_to_image", "image", "image", 1, 4)]

    loaded = catalog(fal_key="k", models_file=path)
    assert loaded.resolve("text_to_image", "fal-ai/flux-pro") == model
    assert LOCAL_MODELS <= ids(loaded.available())  # added to the built-in list


def test_include_builtin_false_replaces_the_builtin_list(tmp_path: Path):
    path = tmp_path / "models.toml"
    path.write_text("include_builtin = false\n" + TOML)
    assert ids(catalog(fal_key="k", models_file=path).available()) == {"fal-ai/flux-pro"}


def test_an_entry_with_an_unknown_mode_names_the_model(tmp_path: Path):
    path = tmp_path / "models.yaml"
    path.write_text("models:\n  - {id: acme/painter, mode: painting, provider: local}\n")
    with pytest.raises(ValueError, match="acme/painter"):
        load_file(path)


def test_fallbacks_drop_models_that_are_not_available():
    fal_only = catalog(fal_key="k")
    flux = fal_only.resolve("text_to_image", "fal-ai/flux/dev")
    assert flux.fallbacks == ("black-forest-labs/flux-schnell",)
    assert fal_only.fallbacks(flux) == []
    with_replicate = catalog(fal_key="k", replicate_api_token="k")
    assert ids(with_replicate.fallbacks(flux)) == {"black-forest-labs/flux-schnell"}


def test_chat_and_embedding_models_are_listed_only_with_an_upstream():
    assert catalog().available("chat") == [] and catalog().available("embedding") == []
    with pytest.raises(ModelNotFound):
        catalog().resolve("chat", "openai/gpt-4o-mini")
    openai = catalog(openai_api_key="k")
    assert {"openai/gpt-4o-mini", "openai/gpt-4o"} <= ids(openai.available("chat"))
    assert "openai/text-embedding-3-small" in ids(openai.available("embedding"))
    assert openai.resolve("chat", "openai/gpt-4o").provider_model == "gpt-4o"
    assert openai.resolve("chat", None).id == "openai/gpt-4o-mini"
    assert {m.category for m in openai.available()} >= {"image", "audio", "music", "video", "chat", "embedding"}


def test_a_model_may_be_named_by_its_providers_name_where_unambiguous(tmp_path: Path):
    openai = catalog(openai_api_key="k")
    assert openai.resolve("chat", "gpt-4o-mini").id == "openai/gpt-4o-mini"
    assert openai.find("tts-1") is not None and openai.find("tts-1").id == "openai/tts-1"  # type: ignore[union-attr]
    path = tmp_path / "models.toml"
    path.write_text('[[models]]\nid = "azure/gpt-4o-mini"\nmode = "chat"\nprovider = "azure"\n'
                    'provider_model = "gpt-4o-mini"\nbase_url = "https://gw.example/v1"\n')
    both = catalog(openai_api_key="k", models_file=path)
    assert both.find("gpt-4o-mini") is None  # two models answer to it
    with pytest.raises(ModelNotFound):
        both.resolve("chat", "gpt-4o-mini")


def test_a_self_hosted_upstream_is_available_when_its_key_variable_is_set(tmp_path: Path, monkeypatch):
    path = tmp_path / "models.yaml"
    path.write_text("models:\n"
                    "  - {id: vllm/llama, mode: chat, provider: vllm, base_url: 'http://gpu:8000/v1',"
                    " api_key_env: VLLM_KEY}\n"
                    "  - {id: ollama/nomic, mode: embedding, provider: ollama, base_url: 'http://ollama:11434/v1'}\n")
    monkeypatch.delenv("VLLM_KEY", raising=False)
    assert ids(catalog(models_file=path).available("chat")) == set()
    assert ids(catalog(models_file=path).available("embedding")) == {"ollama/nomic"}  # needs no key
    monkeypatch.setenv("VLLM_KEY", "secret")
    assert ids(catalog(models_file=path).available("chat")) == {"vllm/llama"}


@pytest.mark.parametrize("entry", [
    "{id: acme/painter, mode: text_to_image, provider: local, base_url: 'http://x/v1'}",
    "{id: acme/chat, mode: chat, provider: acme}",
])
def test_base_url_is_for_relayed_models_and_they_need_one(tmp_path: Path, entry):
    path = tmp_path / "models.yaml"
    path.write_text(f"models:\n  - {entry}\n")
    with pytest.raises(ValueError, match="acme/"):
        load_file(path)


def test_a_model_refuses_a_speed_or_format_it_cannot_make():
    from shared.errors import ValidationError

    models = catalog(fal_key="k", openai_api_key="k")
    params = {"voice_text": "hi", "output_format": "opus", "speed": 2.0}
    models.resolve("audio", "local/voice-1").refuse_unsupported(params)
    models.resolve("audio", "openai/tts-1").refuse_unsupported(params)
    with pytest.raises(ValidationError) as caught:
        models.resolve("audio", "fal-ai/f5-tts").refuse_unsupported(params)
    assert caught.value.details["errors"][0]["field"] == "speed"
    models.resolve("audio", "fal-ai/f5-tts").refuse_unsupported({**params, "speed": 1.0})


def test_the_local_audio_models_declare_every_format_they_render():
    from typing import get_args

    from shared.jobs.requests import AudioFormat

    models = catalog()
    music, rework = models.resolve("music", "local/compose-1"), models.resolve("audio_to_audio", "local/rework-1")
    for model in (music, rework):  # the formats as names (no MIME type list that would say less)
        assert model.capabilities["output_formats"] == list(get_args(AudioFormat))
        assert "output" not in model.capabilities
        for fmt in get_args(AudioFormat):
            model.refuse_unsupported({"output_format": fmt})


def test_whisper_models_are_listed_only_with_their_credentials():
    assert not {"openai/whisper-1", "fal-ai/whisper"} & ids(catalog().available("transcription"))
    assert "openai/whisper-1" in ids(catalog(openai_api_key="k").available("transcription"))
    assert "fal-ai/whisper" in ids(catalog(fal_key="k").available("transcription"))


def test_an_upstream_image_model_makes_only_its_listed_sizes():
    from shared.errors import ValidationError

    models = catalog(fal_key="k", replicate_api_token="k", openai_api_key="k")
    makes = {m: models.resolve("text_to_image", m) for m in ("local/sketch-1", "fal-ai/flux/dev",
                                                             "black-forest-labs/flux-schnell", "openai/gpt-image-1")}
    for size, able in (("512x512", {"local/sketch-1", "fal-ai/flux/dev", "black-forest-labs/flux-schnell"}),
                       ("1024x1024", set(makes)),
                       ("1792x1024", {"local/sketch-1", "fal-ai/flux/dev"}),
                       ("1024x1792", {"local/sketch-1", "fal-ai/flux/dev"})):
        assert {m for m, spec in makes.items() if spec.unsupported({"n": 1, "size": size}) is None} == able, size
    with pytest.raises(ValidationError) as caught:
        makes["openai/gpt-image-1"].refuse_unsupported({"n": 1, "size": "1792x1024"})
    assert caught.value.details["errors"] == [{"field": "size",
                                               "message": "openai/gpt-image-1 makes 1024x1024 only"}]


def test_a_fallback_that_cannot_honour_the_jobs_parameters_is_skipped():
    models = catalog(fal_key="k", replicate_api_token="k")
    flux = models.resolve("text_to_image", "fal-ai/flux/dev")
    assert ids(models.fallbacks(flux, {"n": 1, "size": "1024x1024"})) == {"black-forest-labs/flux-schnell"}
    assert models.fallbacks(flux, {"n": 1, "size": "1792x1024"}) == []  # flux-schnell would bend it to 16:9
