"""What an SDK client sees when a relayed request cannot be served, and that none of it is charged."""

from __future__ import annotations

import openai
import pytest

from tests.llm.fake_upstream import FakeOpenAI
from tests.llm.support import request_rows, sdk, wait_for_rows
from tests.support import create_account_with_key, ledger_sum

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def caller(fake_openai: FakeOpenAI):
    return create_account_with_key(credits=50)


def _user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_an_account_that_cannot_pay_gets_402_before_any_upstream_call(live_server, fake_openai):
    broke = create_account_with_key(plan="free", credits=0)
    for stream in (False, True):
        with pytest.raises(openai.APIStatusError) as caught:
            sdk(live_server, broke).chat.completions.create(model=MODEL, stream=stream,
                                                            messages=_user(f"no credits {stream}"))
        assert caught.value.status_code == 402
    with pytest.raises(openai.APIStatusError) as caught:
        sdk(live_server, broke).embeddings.create(model="openai/text-embedding-3-small", input="no credits embed")
    assert caught.value.status_code == 402
    assert fake_openai.bodies("no credits") == []
    assert not any("no credits" in str(body.get("input")) for _, body in fake_openai.requests)
    assert request_rows(broke.account_id) == []


@pytest.mark.parametrize(("status", "error"), [
    (400, openai.BadRequestError), (429, openai.RateLimitError), (500, openai.InternalServerError)])
@pytest.mark.parametrize("stream", [False, True])
def test_an_upstream_refusal_is_an_sdk_error_and_charges_nothing(live_server, fake_openai, caller, status, error,
                                                                 stream):
    with pytest.raises(error) as caught:
        sdk(live_server, caller).chat.completions.create(model=MODEL, stream=stream,
                                                         messages=_user(f"fail {status} {stream}"))
    if status == 429:
        assert caught.value.response.headers["retry-after"] == "7"
    if status == 500:
        assert caught.value.status_code == 503
    assert [r["kind"] for r in request_rows(caller.account_id)] == ["hold", "release"]
    assert ledger_sum(caller.account_id) == (50, 50)


def test_a_stream_cut_by_the_upstream_ends_in_an_error_event_and_charges_nothing(live_server, fake_openai, caller):
    stream = sdk(live_server, caller).chat.completions.create(model=MODEL, stream=True,
                                                              messages=_user("break please"))
    with pytest.raises(openai.APIError):
        list(stream)
    assert [r["kind"] for r in wait_for_rows(caller.account_id, "release")] == ["release"]
    assert ledger_sum(caller.account_id) == (50, 50)


def test_a_wrong_key_is_an_authentication_error(live_server, fake_openai):
    client = openai.OpenAI(base_url=f"{live_server}/v1", api_key="at_live_nope.nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model=MODEL, messages=_user("who am i"))


@pytest.mark.parametrize(("extra", "field"), [
    ({"logprobs": True}, "logprobs"),
    ({"temperature": 3}, "temperature"),
    ({"stream_options": {"include_usage": True}}, "stream_options"),
    ({"tool_choice": "required"}, "tool_choice"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "tool_call_id"),
])
def test_a_field_that_cannot_be_honoured_is_a_400_naming_it(live_server, fake_openai, caller, extra, field):
    body = {"model": MODEL, "messages": _user("bad field"), **extra}
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(live_server, caller).post("/chat/completions", body=body, cast_to=object)
    assert field in caught.value.message
    assert fake_openai.bodies("bad field") == []


def test_an_unknown_model_is_model_not_found_listing_the_chat_models(live_server, fake_openai, caller):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(live_server, caller).chat.completions.create(model="nobody/gpt-9", messages=_user("unknown"))
    error = caught.value.body
    assert isinstance(error, dict) and error["code"] == "MODEL_NOT_FOUND"
    assert {"openai/gpt-4o-mini", "openai/gpt-4o", "selfhosted/llama-3-8b"} <= set(
        error["details"]["available_models"])
