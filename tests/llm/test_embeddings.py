"""Embeddings through the official ``openai`` SDK, relayed to the fake upstream."""

from __future__ import annotations

import json

import pytest

from tests.llm.fake_upstream import FakeOpenAI, vector
from tests.llm.support import request_rows, sdk
from tests.support import create_account_with_key, ledger_sum


@pytest.fixture
def caller(fake_openai: FakeOpenAI):
    return create_account_with_key(credits=10)


@pytest.mark.parametrize("encoding", ["float", None])  # None: the SDK asks for base64 and decodes it
def test_embeddings_are_relayed_and_cost_one_credit(live_server, fake_openai, caller, encoding):
    kwargs = {"encoding_format": encoding} if encoding else {}
    result = sdk(live_server, caller).embeddings.create(
        model="text-embedding-3-small", input=["alpha", "beta"], dimensions=4, **kwargs)
    # The fake's values are multiples of 1/128: exact in float32, so base64 round trips exactly.
    assert [d.embedding for d in result.data] == [vector(json.dumps("alpha"), 4), vector(json.dumps("beta"), 4)]
    assert result.usage.credits_used == 1  # type: ignore[attr-defined]
    sent = next(body for path, body in reversed(fake_openai.requests) if path.endswith("/embeddings"))
    assert sent["model"] == "text-embedding-3-small" and sent["dimensions"] == 4
    charge = [r for r in request_rows(caller.account_id) if r["kind"] == "charge"]
    assert [(r["amount"], r["details"]["mode"], r["details"]["model"]) for r in charge] == [
        (-1, "embedding", "openai/text-embedding-3-small")]
    assert ledger_sum(caller.account_id) == (9, 9)
