"""Without an upstream for chat, no chat model is listed and a chat request names what is available."""

from __future__ import annotations

import os

import pytest

from tests.support import create_account_with_key


@pytest.fixture(autouse=True)
def _no_upstream(stack_env):
    assert not os.environ.get("ATELIER_OPENAI_API_KEY") and not os.environ.get("ATELIER_MODELS_FILE")


def test_no_chat_model_is_listed_and_a_chat_request_is_model_not_found(client):
    caller = create_account_with_key(credits=5)
    models = client.get("/v1/models", headers=caller.headers).json()["data"]
    assert models and not [m for m in models if m["mode"] in ("chat", "embedding")]
    response = client.post("/v1/chat/completions", headers=caller.headers,
                           json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "MODEL_NOT_FOUND" and error["details"]["available_models"] == []
    embed = client.post("/v1/embeddings", headers=caller.headers, json={"model": "text-embedding-3-small",
                                                                       "input": "hi"})
    assert embed.status_code == 400 and embed.json()["error"]["code"] == "MODEL_NOT_FOUND"
