"""The rest of OpenAI's chat and embeddings surface through the official SDK: every field Atelier
cannot honour is a 400 naming it, every honoured one reaches the upstream (streamed too), the
embeddings' input shapes, provider names only when unambiguous, a plan's rate limit, usage in
``GET /v1/usage``, and the credit headers and error fields of authenticated error responses."""

from __future__ import annotations

import base64
import struct
from typing import Any

import httpx
import openai
import pytest

from tests.llm.fake_upstream import FakeOpenAI, vector
from tests.llm.support import sdk, wait_for_rows
from tests.support import Caller, create_account_with_key

MODEL = "openai/gpt-4o-mini"
EMBEDDING = "openai/text-embedding-3-small"
TOOLS = [{"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
         for name in ("get_weather", "get_time")]
#: OpenAI's chat fields Atelier refuses (docs/openai.md), each with a value the SDK sends as given.
REFUSED: dict[str, Any] = {
    "n": 2, "logprobs": True, "top_logprobs": 2, "logit_bias": {"50256": -100}, "modalities": ["text"],
    "audio": {"voice": "alloy", "format": "mp3"}, "prediction": {"type": "content", "content": "x"},
    "service_tier": "auto", "store": True, "reasoning_effort": "low", "web_search_options": {},
    "functions": [{"name": "f", "parameters": {}}], "function_call": "auto", "verbosity": "low",
    "safety_identifier": "s", "prompt_cache_key": "k",
}


@pytest.fixture
def caller(fake_openai: FakeOpenAI) -> Caller:
    return create_account_with_key(credits=50)


def _user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


@pytest.mark.parametrize("field", sorted(REFUSED))
def test_each_chat_field_atelier_cannot_honour_is_a_400_naming_it(live_server, fake_openai, caller, field):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(live_server, caller).chat.completions.create(model=MODEL, messages=_user(f"refused {field}"),
                                                         **{field: REFUSED[field]})
    assert (caught.value.type, caught.value.param, caught.value.code) == (
        "invalid_request_error", field, "VALIDATION_ERROR")
    assert fake_openai.bodies(f"refused {field}") == []


def test_a_streamed_request_relays_every_honoured_field(live_server, fake_openai, caller):
    messages = [{"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "streamed fields"},
                                             {"type": "image_url", "image_url": {"url": "https://example.com/a.png",
                                                                                 "detail": "low"}}]}]
    fields: dict[str, Any] = {
        "temperature": 0.2, "top_p": 0.5, "max_tokens": 20, "max_completion_tokens": 30, "stop": "END",
        "presence_penalty": 1.0, "frequency_penalty": 1.5, "user": "u-7", "metadata": {"k": "v"},
        "tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "get_time"}},
    }
    chunks = list(sdk(live_server, caller).chat.completions.create(model=MODEL, messages=messages, stream=True,
                                                                   **fields))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "echo: streamed fields"
    assert all(c.usage is None for c in chunks)  # not asked for: the upstream's usage chunk is not relayed
    (sent,) = fake_openai.bodies("streamed fields")
    assert {k: sent[k] for k in fields} == fields and sent["messages"] == messages and sent["stream"] is True


def test_embeddings_take_a_string_or_token_arrays_and_answer_base64_as_asked(live_server, fake_openai, caller):
    client = sdk(live_server, caller)
    one = client.embeddings.create(model=EMBEDDING, input="just one", encoding_format="float")
    assert [d.embedding for d in one.data] == [vector('"just one"', 8)]
    tokens = client.embeddings.create(model=EMBEDDING, input=[[1, 2, 3], [4, 5]], encoding_format="float")
    assert [d.embedding for d in tokens.data] == [vector("[1, 2, 3]", 8), vector("[4, 5]", 8)]
    raw = client.embeddings.create(model=EMBEDDING, input="as base64", dimensions=4, encoding_format="base64")
    # Asked for explicitly, base64 comes back as the upstream encoded it (little-endian float32).
    packed = base64.b64decode(str(raw.data[0].embedding))
    assert list(struct.unpack("<4f", packed)) == pytest.approx(vector('"as base64"', 4), abs=1e-6)
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=EMBEDDING, input="x", extra_body={"truncate": True})
    assert caught.value.param == "truncate"


def test_a_provider_name_served_by_two_models_names_neither(live_server, fake_openai, caller):
    client = sdk(live_server, caller)
    assert client.models.retrieve("openai/text-embedding-3-large").owned_by == "openai"
    assert client.models.retrieve("selfhosted/embed-large").owned_by == "vllm"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("text-embedding-3-large")
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="text-embedding-3-large", input="which one")
    assert (caught.value.code, caught.value.param) == ("MODEL_NOT_FOUND", "model")
    result = client.embeddings.create(model="selfhosted/embed-large", input="self-hosted", encoding_format="float")
    assert result.model == "text-embedding-3-large"  # the upstream's name for it


def test_a_plans_rate_limit_stops_chat_before_the_upstream(live_server, fake_openai):
    limited = create_account_with_key(plan="free", credits=20)  # 10 requests a minute
    client = sdk(live_server, limited)
    for n in range(10):
        client.chat.completions.create(model=MODEL, messages=_user(f"within limit {n}"))
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=MODEL, messages=_user("over the limit"))
    assert (caught.value.type, caught.value.code) == ("rate_limit_error", "RATE_LIMIT_EXCEEDED")
    assert int(caught.value.response.headers["retry-after"]) > 0
    assert caught.value.response.headers["x-credits-used"] == "0"
    assert fake_openai.bodies("over the limit") == []


def test_relayed_requests_appear_in_usage(live_server, fake_openai, caller):
    client = sdk(live_server, caller)
    client.chat.completions.create(model=MODEL, messages=_user("usage plain"))
    list(client.chat.completions.create(model=MODEL, stream=True, messages=_user("usage streamed")))
    client.embeddings.create(model=EMBEDDING, input="usage embed")
    wait_for_rows(caller.account_id, "charge", 3)
    with httpx.Client(base_url=live_server, headers=caller.headers) as http:
        by_model = http.get("/v1/usage", params={"group_by": "model"}).json()
        by_mode = {g["key"]: g for g in http.get("/v1/usage", params={"group_by": "mode"}).json()["groups"]}
    assert {g["key"]: (g["credits"], g["requests"]) for g in by_model["groups"]} == {
        MODEL: (2, 2), EMBEDDING: (1, 1)}
    assert by_model["total_credits"] == 3
    assert by_mode["chat"]["prompt_tokens"] > 0 and by_mode["chat"]["completion_tokens"] > 0
    assert by_mode["embedding"]["prompt_tokens"] > 0


def _credit_headers(response: httpx.Response) -> tuple[str, int]:
    return response.headers["x-credits-used"], int(response.headers["x-credits-remaining"])


def test_authenticated_error_responses_carry_the_credit_headers_type_and_param(live_server, fake_openai, caller):
    client = sdk(live_server, caller)
    remaining = _credit_headers(client.models.with_raw_response.list().http_response)[1]
    cases: list[tuple[type[openai.APIStatusError], dict[str, Any], tuple[str, str | None]]] = [
        (openai.BadRequestError, {"temperature": 5, "messages": _user("too hot")},
         ("invalid_request_error", "temperature")),
        (openai.BadRequestError, {"messages": _user("fail 400 upstream")}, ("invalid_request_error", "messages")),
        (openai.InternalServerError, {"messages": _user("fail 500 upstream")}, ("api_error", None)),
        (openai.InternalServerError, {"messages": _user("fail 500 streamed"), "stream": True}, ("api_error", None)),
    ]
    for error, kwargs, (kind, param) in cases:
        with pytest.raises(error) as caught:
            client.chat.completions.create(model=MODEL, **kwargs)
        assert (caught.value.type, caught.value.param) == (kind, param)
        assert _credit_headers(caught.value.response) == ("0", remaining)  # nothing held or charged
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("nobody/nothing")
    assert _credit_headers(missing.value.response) == ("0", remaining)
    broke = create_account_with_key(plan="free", credits=0)
    with pytest.raises(openai.APIStatusError) as refused:
        sdk(live_server, broke).embeddings.create(model=EMBEDDING, input="no credits")
    assert (refused.value.status_code, refused.value.type, refused.value.param) == (402, "insufficient_quota", None)
    assert _credit_headers(refused.value.response) == ("0", 0)
