"""A fake OpenAI-compatible upstream wired into the catalog twice: as OpenAI itself
(``ATELIER_OPENAI_*``) and as a self-hosted server from a catalog file (own base URL and key variable),
which also serves an embedding model under one of OpenAI's names."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llm.fake_upstream import FakeOpenAI

SELF_HOSTED_KEY_ENV = "ATELIER_TEST_SELFHOSTED_KEY"


def _catalog_file(path: Path, fake: FakeOpenAI) -> Path:
    path.write_text(
        "[[models]]\n"
        'id = "selfhosted/llama-3-8b"\nmode = "chat"\nprovider = "vllm"\n'
        'provider_model = "meta-llama/Meta-Llama-3-8B-Instruct"\n'
        f'base_url = "{fake.base_url}"\napi_key_env = "{SELF_HOSTED_KEY_ENV}"\n'
        # Served under OpenAI's name too: "text-embedding-3-large" alone is ambiguous here.
        "[[models]]\n"
        'id = "selfhosted/embed-large"\nmode = "embedding"\nprovider = "vllm"\n'
        'provider_model = "text-embedding-3-large"\n'
        f'base_url = "{fake.base_url}"\napi_key_env = "{SELF_HOSTED_KEY_ENV}"\n'
    )
    return path


def _reset() -> None:
    from api.deps import get_catalog
    from shared.settings import reset_settings

    reset_settings()
    get_catalog.cache_clear()


@pytest.fixture(scope="module")
def fake_openai(stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        env = {
            "ATELIER_OPENAI_API_KEY": fake.key,
            "ATELIER_OPENAI_BASE_URL": fake.base_url,
            "ATELIER_MODELS_FILE": str(_catalog_file(tmp_path_factory.mktemp("llm") / "models.toml", fake)),
            SELF_HOSTED_KEY_ENV: fake.key,
        }
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        _reset()
        try:
            yield fake
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            _reset()
